/**
 * Retention test child (needs `--v8-flags=--expose-gc`): enqueues four messages, takes two, acks
 * the first (its delete waits for the ack commit: a long ack window), lets go of what it took,
 * collects garbage, and prints as JSON which bodies are still reachable. The store must keep
 * none of the messages it handed out, leased or acked, and keep the ones it may still hand out.
 * Then it releases the leased one (read again from the file) and reopens the store.
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
const KiB = 1024;

/**
 * Enqueues bodies of 64, 32, 16 and 8 KiB; takes two, acks the first. Returns weak references
 * to the bodies and the seq of the leased one. The 8 KiB one is last: the store's reused encode
 * buffer may still point at the last enqueue, so it is not one of those the test is about.
 */
async function takeTwoAckOne(store: MessageStore) {
  const target = [{ endpoint: ENDPOINT, priority: 0, ttlSeconds: -1 }];
  const bodies = [64 * KiB, 32 * KiB, 16 * KiB, 8 * KiB].map((size) => new Uint8Array(size));
  for (const body of bodies) {
    await store.enqueue({ body, appProperties: {}, systemProperties: {} }, target);
  }
  const [acked, leased] = store.take(ENDPOINT, 2);
  if (!acked || !leased) throw new Error("expected two messages to take");
  store.ack(ENDPOINT, acked.seq);
  return {
    leasedSeq: leased.seq,
    acked: new WeakRef(bodies[0]!),
    leased: new WeakRef(bodies[1]!),
    waiting: new WeakRef(bodies[2]!),
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
const refs = await takeTwoAckOne(store);
await collect();
const reachable = {
  acked: refs.acked.deref() !== undefined,
  leased: refs.leased.deref() !== undefined,
  waiting: refs.waiting.deref() !== undefined,
  unreferenced: refs.unreferenced.deref() !== undefined,
};
store.release(ENDPOINT, [refs.leasedSeq]);
const retaken = store.take(ENDPOINT, 10).map((queued) => queued.message.body.byteLength);
await store.close();
const reopened = openMessageStore(path, { maxSizeBytes: 1024 * 1024 });
const left = reopened.take(ENDPOINT, 10).map((queued) => queued.message.body.byteLength);
await reopened.close();
console.log(JSON.stringify({ reachable, retaken, left }));
