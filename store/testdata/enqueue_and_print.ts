/**
 * fsync-order test child: enqueues `count` messages one after the other and writes
 * `resolved <n>` to stdout as each enqueue resolves; bodies of `body bytes` (default: a few
 * bytes, kept in the database; 16384 goes to the body log).
 * Usage: `deno run -A enqueue_and_print.ts <store path> <count> <FULL|NORMAL> [<body bytes>]`.
 */
import { openMessageStore } from "../message_store.ts";

const [path, countText, synchronous, bodyText] = Deno.args;
if (!path || !countText || (synchronous !== "FULL" && synchronous !== "NORMAL")) {
  throw new Error("usage: enqueue_and_print.ts <store path> <count> <FULL|NORMAL>");
}
const bodyBytes = Number(bodyText ?? 0);
const store = openMessageStore(path, { maxSizeBytes: 1024 * 1024, synchronous });
const encoder = new TextEncoder();
for (let n = 0; n < Number(countText); n++) {
  await store.enqueue(
    {
      body: encoder.encode(`message ${n}`.padEnd(bodyBytes, "x")),
      appProperties: {},
      systemProperties: {},
    },
    [{ endpoint: "upstream", priority: 0, ttlSeconds: -1 }],
  );
  Deno.stdout.writeSync(encoder.encode(`resolved ${n}\n`));
}
await store.close();
