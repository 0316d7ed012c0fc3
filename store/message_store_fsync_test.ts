import assert from "node:assert/strict";
import { commandAvailable, serviceTest } from "../tests/_services.ts";
import {
  resolvedEnqueues,
  storeEvents,
  traceDenoScript,
  type TraceEvent as Event,
} from "../tests/_strace.ts";
import { tempDir } from "./_testing.ts";

const CHILD = new URL("./testdata/enqueue_and_print.ts", import.meta.url);

/**
 * Numbers of the enqueues that resolved before their body was written to the log and synced,
 * and then their WAL frames written and synced, in that order.
 */
function unsyncedLoggedAcks(events: readonly Event[]): number[] {
  const order = ["log-write", "log-sync", "wal-write", "wal-sync"];
  const bad: number[] = [];
  let reached = 0;
  for (const event of events) {
    if (event.kind === "resolved") {
      if (reached < order.length) bad.push(event.n);
      reached = 0;
    } else if (event.kind === order[reached]) {
      reached++;
    }
  }
  return bad;
}

/** Numbers of the enqueues that resolved before their WAL frames were written and synced. */
function unsyncedAcks(events: readonly Event[]): number[] {
  const bad: number[] = [];
  let wroteSinceAck = false;
  let syncedSinceWrite = false;
  for (const event of events) {
    if (event.kind === "wal-write") {
      wroteSinceAck = true;
      syncedSinceWrite = false;
    } else if (event.kind === "wal-sync") {
      syncedSinceWrite = true;
    } else if (event.kind === "resolved") {
      if (!wroteSinceAck || !syncedSinceWrite) bad.push(event.n);
      wroteSinceAck = false;
    }
  }
  return bad;
}

async function traceChild(
  dir: string,
  synchronous: "FULL" | "NORMAL",
  bodyBytes = 0,
): Promise<Event[]> {
  const path = `${dir}/${synchronous}-${bodyBytes}.db`;
  const traceFile = `${dir}/${synchronous}-${bodyBytes}.trace`;
  const trace = await traceDenoScript(traceFile, CHILD, [
    path,
    "5",
    synchronous,
    String(bodyBytes),
  ]);
  const events = storeEvents(trace, path);
  assert.deepEqual(
    resolvedEnqueues(events),
    [0, 1, 2, 3, 4],
    "the trace shows every resolved enqueue",
  );
  return events;
}

serviceTest(
  "enqueue() resolves only after its WAL frames are written and fsynced (power-cut safe)",
  [await commandAvailable("strace")],
  async (t) => {
    await using dir = await tempDir();
    await t.step("synchronous FULL: every enqueue is synced before it resolves", async () => {
      assert.deepEqual(unsyncedAcks(await traceChild(dir.path, "FULL")), []);
    });
    await t.step("a 16 KiB body is in the log and synced before its row is written", async () => {
      const events = await traceChild(dir.path, "FULL", 16384);
      assert.ok(events.some((e) => e.kind === "log-write"), "the bodies went to the log");
      assert.deepEqual(unsyncedLoggedAcks(events), []);
      assert.deepEqual(unsyncedAcks(events), []);
    });
    await t.step("the ordered check sees small bodies skip the log", async () => {
      assert.deepEqual(unsyncedLoggedAcks(await traceChild(dir.path, "FULL")), [0, 1, 2, 3, 4]);
    });
    await t.step("synchronous NORMAL: the check sees enqueues resolve unsynced", async () => {
      assert.deepEqual(unsyncedAcks(await traceChild(dir.path, "NORMAL")), [0, 1, 2, 3, 4]);
    });
  },
);
