/**
 * Crash-test child: enqueues numbered messages to two endpoints from many concurrent producers
 * and prints the number of each message whose enqueue resolved, one per line, until it is killed
 * (or has sent `limit`). Usage: `deno run -A enqueue_until_killed.ts <store path> <limit> [<base
 * body bytes>]` (200 unless given; message n's body is base + n % 300 * base / 200 bytes).
 */
import { openMessageStore } from "../message_store.ts";

const [path, limitText, baseText] = Deno.args;
if (!path || !limitText) throw new Error("usage: enqueue_until_killed.ts <store path> <limit>");
const limit = Number(limitText);
const base = Number(baseText ?? 200);
const store = openMessageStore(path, { maxSizeBytes: 1024 * 1024 * 1024 });
const encoder = new TextEncoder();
let next = 0;

async function produce(): Promise<void> {
  while (next < limit) {
    const n = next++;
    const body = encoder.encode(`message ${n} `.padEnd(base + (n % 300) * base / 200, "x"));
    await store.enqueue(
      { body, appProperties: { n: String(n) }, systemProperties: { messageId: `m${n}` } },
      [
        { endpoint: "upstream", priority: n % 3, ttlSeconds: -1 },
        { endpoint: "module/filter/input1", priority: 0, ttlSeconds: -1 },
      ],
    );
    Deno.stdout.writeSync(encoder.encode(`${n}\n`));
  }
}

await Promise.all(Array.from({ length: 64 }, produce));
await store.close();
