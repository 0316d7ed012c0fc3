/**
 * A committed message leaves for its receiver before the WAL's fdatasync, and its enqueue (the
 * sender's PUBACK) resolves only after it: seen in the system calls of a child process that runs
 * a store and the MQTT head's batched writer on a unix socket.
 */
import assert from "node:assert/strict";
import { commandAvailable, serviceTest } from "./_services.ts";
import { resolvedEnqueues, storeEvents, traceDenoScript, type TraceEvent } from "./_strace.ts";

const CHILD = new URL("./_deliver_and_print.ts", import.meta.url);

/**
 * Numbers of the enqueues whose message was not written to the socket after its commit's WAL
 * write and before its WAL sync, or that resolved before that sync.
 */
function outOfOrder(events: readonly TraceEvent[]): number[] {
  const bad: number[] = [];
  let since: string[] = [];
  for (const event of events) {
    if (event.kind !== "resolved") {
      since.push(event.kind);
      continue;
    }
    const written = since.indexOf("wal-write");
    const delivered = since.indexOf("socket-write", written);
    const synced = since.indexOf("wal-sync", delivered);
    if (written < 0 || delivered < 0 || synced < 0) bad.push(event.n);
    since = [];
  }
  return bad;
}

serviceTest(
  "a committed message is written to its receiver before the WAL sync, and acknowledged after it",
  [await commandAvailable("strace")],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-delivery-order-" });
    try {
      const path = `${dir}/messages.db`;
      const socketPath = `${dir}/receiver.sock`;
      const trace = await traceDenoScript(`${dir}/trace`, CHILD, [path, socketPath, "5"]);
      const events = storeEvents(trace, path, socketPath);
      assert.deepEqual(
        resolvedEnqueues(events),
        [0, 1, 2, 3, 4],
        "the trace shows every resolved enqueue",
      );
      assert.ok(events.some((e) => e.kind === "socket-write"), "the trace shows the deliveries");
      assert.deepEqual(outOfOrder(events), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
