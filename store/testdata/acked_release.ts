/**
 * Retention test child (needs `--v8-flags=--expose-gc`): leases two messages, acks the first
 * while its delete waits for the ack commit (a long ack window) and keeps the row it took,
 * collects garbage, and prints as JSON which bodies are still reachable: the acked one must not
 * be, the leased one must.
 * Usage: `deno run --v8-flags=--expose-gc -A acked_release.ts <store path>`.
 */
import { openMessageStore } from "../message_store.ts";
import type { MessageStore } from "../store_types.ts";

const gc = (globalThis as { gc?: () => void }).gc;
const [path] = Deno.args;
if (!path || gc === undefined) {
  throw new Error("usage: deno run --v8-flags=--expose-gc -A acked_release.ts <store path>");
}
const ENDPOINT = "module/in";

/**
 * Enqueues and leases two messages, acks the first; returns the acked row itself (as a consumer
 * may still hold it) and weak references to the bodies.
 */
async function leaseTwoAckOne(store: MessageStore) {
  const target = [{ endpoint: ENDPOINT, priority: 0, ttlSeconds: -1 }];
  const message = (size: number) => ({
    body: new Uint8Array(size).fill(7),
    appProperties: { kind: "test" },
    systemProperties: { messageId: `m${size}` },
  });
  await store.enqueue(message(64 * 1024), target);
  await store.enqueue(message(32 * 1024), target);
  const [acked, leased] = store.take(ENDPOINT, 2);
  if (!acked || !leased) throw new Error("expected two messages to take");
  const ackedBody = new WeakRef(acked.message.body);
  store.ack(ENDPOINT, acked.seq);
  return {
    row: acked,
    acked: ackedBody,
    leased: new WeakRef(leased.message.body),
    unreferenced: new WeakRef(new Uint8Array(16)),
  };
}

/** Collects garbage in a turn of its own: a WeakRef read in this turn keeps its target alive. */
async function collect(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc!();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

// The ack commit would delete the acked row only after a minute: its lease is still there.
const store = openMessageStore(path, { maxSizeBytes: 1024 * 1024, ackWindowMs: 60_000 });
const refs = await leaseTwoAckOne(store);
await collect();
// Still held here, as a consumer may hold what it took: its message is let go all the same.
const bodyBytesAfterAck = refs.row.message.body.byteLength;
const reachable = {
  acked: refs.acked.deref() !== undefined,
  leased: refs.leased.deref() !== undefined,
  unreferenced: refs.unreferenced.deref() !== undefined,
};
await store.close();
const reopened = openMessageStore(path, { maxSizeBytes: 1024 * 1024 });
const left = reopened.take(ENDPOINT, 10).map((queued) => queued.message.body.byteLength);
await reopened.close();
console.log(JSON.stringify({ reachable, bodyBytesAfterAck, left }));
