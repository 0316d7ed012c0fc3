/**
 * Delivery-order test child: a message store whose listener takes each committed message in a
 * microtask, as hub/queue_pump.ts does, and writes it to a unix socket through the MQTT head's
 * batched writer; enqueues `count` messages one after the other and writes `resolved <n>` to
 * stdout as each enqueue resolves (its PUBACK would go then).
 * Usage: `deno run -A _deliver_and_print.ts <store path> <socket path> <count>`.
 */
import { BatchedWriter, ConnTransport } from "../hub/mqtt/mqtt_transport.ts";
import { openMessageStore } from "../store/message_store.ts";

const [path, socketPath, countText] = Deno.args;
if (!path || !socketPath || !countText) {
  throw new Error("usage: _deliver_and_print.ts <store path> <socket path> <count>");
}
const listener = Deno.listen({ transport: "unix", path: socketPath });
const accepted = listener.accept();
const conn = await Deno.connect({ transport: "unix", path: socketPath });
const peer = await accepted;
const drained = (async () => {
  const buffer = new Uint8Array(64 * 1024);
  while (await peer.read(buffer) !== null) { /* the receiving module */ }
})();
const writer = new BatchedWriter(new ConnTransport(conn));
const store = openMessageStore(path, { maxSizeBytes: 1024 * 1024 });
let closing = false;
store.onEnqueued("upstream", () =>
  queueMicrotask(() => {
    if (closing) return;
    for (const taken of store.take("upstream", 10)) writer.write(taken.message.body);
  }));
const encoder = new TextEncoder();
for (let n = 0; n < Number(countText); n++) {
  await store.enqueue(
    { body: encoder.encode(`message ${n}`), appProperties: {}, systemProperties: {} },
    [{ endpoint: "upstream", priority: 0, ttlSeconds: -1 }],
  );
  Deno.stdout.writeSync(encoder.encode(`resolved ${n}\n`));
}
closing = true;
await store.close();
conn.close();
await drained;
listener.close();
