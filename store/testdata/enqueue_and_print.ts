/**
 * fsync-order test child: enqueues `count` messages one after the other and writes
 * `resolved <n>` to stdout as each enqueue resolves.
 * Usage: `deno run -A enqueue_and_print.ts <store path> <count> <FULL|NORMAL>`.
 */
import { openMessageStore } from "../message_store.ts";

const [path, countText, synchronous] = Deno.args;
if (!path || !countText || (synchronous !== "FULL" && synchronous !== "NORMAL")) {
  throw new Error("usage: enqueue_and_print.ts <store path> <count> <FULL|NORMAL>");
}
const store = openMessageStore(path, { maxSizeBytes: 1024 * 1024, synchronous });
const encoder = new TextEncoder();
for (let n = 0; n < Number(countText); n++) {
  await store.enqueue(
    { body: encoder.encode(`message ${n}`), appProperties: {}, systemProperties: {} },
    [{ endpoint: "upstream", priority: 0, ttlSeconds: -1 }],
  );
  Deno.stdout.writeSync(encoder.encode(`resolved ${n}\n`));
}
await store.close();
