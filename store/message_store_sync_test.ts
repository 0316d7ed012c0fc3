/**
 * When a commit's messages can be taken (before its WAL sync) and its enqueues resolve (after).
 * A failed fdatasync, on the loop and on Deno's pool: the enqueues of that commit are refused
 * (the broker sends no PUBACK), the next commit checkpoints the WAL into the database file
 * instead of trusting a later sync of it, the store goes on, and nothing committed is lost. The
 * failure is injected into Deno.FsFile's sync methods (no device here fails on demand: no device
 * mapper).
 */
import assert from "node:assert/strict";
import { createLogger, type Logger } from "../core/log.ts";
import { bodyText, tempDir, textMessage } from "./_testing.ts";
import { LOOP_SYNC_MAX_MS } from "./_sync_policy.ts";
import { openMessageStore } from "./message_store.ts";
import type { EnqueueTarget } from "./store_types.ts";

const upstream: EnqueueTarget[] = [{ endpoint: "upstream", priority: 0, ttlSeconds: -1 }];
const eio = () => new Error("Input/output error (os error 5)");

/** Replaces `method` of Deno.FsFile for the test's duration; the returned disposer restores it. */
function patchFsFile<K extends "syncDataSync" | "syncData">(
  method: K,
  replacement: Deno.FsFile[K],
): Disposable {
  const proto = Deno.FsFile.prototype;
  const original = proto[method];
  proto[method] = replacement;
  return { [Symbol.dispose]: () => void (proto[method] = original) };
}

/**
 * Makes every fdatasync fail with EIO: on the loop, and on the pool too, should a slow moment of
 * this machine's disk have sent the syncs there.
 */
function failingSyncs(): Disposable {
  const onLoop = patchFsFile("syncDataSync", () => {
    throw eio();
  });
  const onPool = patchFsFile("syncData", () => Promise.reject(eio()));
  return {
    [Symbol.dispose]: () => {
      onPool[Symbol.dispose]();
      onLoop[Symbol.dispose]();
    },
  };
}

function open(path: string, logger?: Logger) {
  return openMessageStore(path, {
    maxSizeBytes: 1 << 20,
    purgeIntervalMs: 0,
    ...(logger && { logger }),
  });
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* the disk is slow */ }
}

Deno.test("a committed message can be taken before its WAL sync; its enqueue resolves only after the sync", async () => {
  await using dir = await tempDir();
  const store = open(`${dir.path}/messages.db`);
  try {
    // What the store's listener did by the time the WAL is synced: heard of the message, and
    // (as a queue pump does, in a microtask) taken it.
    const taken: string[] = [];
    const unsubscribe = store.onEnqueued("upstream", () =>
      queueMicrotask(() => {
        for (const message of store.take("upstream", 10)) taken.push(bodyText(message.message));
      }));
    let resolved = false;
    const atSync: { taken: string[]; resolved: boolean }[] = [];
    const syncing = () => void atSync.push({ taken: [...taken], resolved });
    using _loop = patchFsFile("syncDataSync", syncing);
    using _pool = patchFsFile("syncData", () => Promise.resolve(syncing()));
    await store.enqueue(textMessage("first"), upstream).then(() => resolved = true);
    await store.enqueue(textMessage("second"), upstream).then(() => resolved = true);
    unsubscribe();
    assert.deepEqual(atSync, [
      { taken: ["first"], resolved: false },
      { taken: ["first", "second"], resolved: true },
    ]);
  } finally {
    await store.close();
  }
});

Deno.test("a failed WAL sync refuses that commit's enqueues, the next commit checkpoints the WAL into the database file, and the store goes on", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const store = open(path);
  try {
    await store.enqueue(textMessage("before"), upstream);
    {
      using _ = failingSyncs();
      await assert.rejects(store.enqueue(textMessage("failed"), upstream), /os error 5/);
    }
    await store.enqueue(textMessage("after"), upstream);
    // After a failed fdatasync, a later one may succeed without writing what the failed one
    // could not, and WAL recovery stops at the first bad frame: everything committed, the
    // refused message's row included, is in the database file itself, which is all a copy
    // without the WAL has.
    await Deno.copyFile(path, `${dir.path}/without-wal.db`);
    const copy = open(`${dir.path}/without-wal.db`);
    try {
      const bodies = copy.take("upstream", 10).map((taken) => bodyText(taken.message));
      assert.deepEqual(bodies, ["before", "failed", "after"]);
    } finally {
      await copy.close();
    }
    const { failed, syncs } = store.commitCounters();
    assert.equal(failed, 1);
    // The commit after the failure was made durable by a checkpoint, not a sync of the WAL.
    assert.equal(syncs.onLoop + syncs.onPool, 2);
  } finally {
    await store.close();
  }
  // The refused message's row was committed before its sync failed: it may be delivered (the
  // sender, without a PUBACK, also sends it again), never lost; the others are all there.
  const reopened = open(path);
  try {
    const bodies = reopened.take("upstream", 10).map((taken) => bodyText(taken.message));
    assert.deepEqual(bodies, ["before", "failed", "after"]);
  } finally {
    await reopened.close();
  }
});

Deno.test("after a failed WAL sync, removing body log segments checkpoints the WAL rather than trust another sync of it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  // Acks committed with the next commit, not a window later: the failed one deletes the row.
  const store = openMessageStore(path, {
    maxSizeBytes: 1 << 20,
    purgeIntervalMs: 0,
    ackWindowMs: 0,
  });
  try {
    // A body in the log (a segment to remove once it is acked), then a failed sync.
    const body = new TextEncoder().encode("large".padEnd(16 * 1024, "."));
    await store.enqueue({ ...textMessage("large"), body }, upstream);
    const [taken] = store.take("upstream", 1);
    store.ack("upstream", taken!.seq);
    {
      using _ = failingSyncs();
      await assert.rejects(store.enqueue(textMessage("failed"), upstream), /os error 5/);
    }
    let walSyncs = 0;
    const wal = await Deno.stat(`${path}-wal`);
    assert.ok(wal.size > 0, "the WAL holds the commits");
    {
      using _ = patchFsFile("syncDataSync", () => void walSyncs++);
      store.purgeExpired(); // gives space back: unused segments go once what freed them is durable
    }
    assert.equal(walSyncs, 0, "no sync of the WAL after its failed one");
    assert.equal((await Deno.stat(`${path}-wal`)).size, 0, "the WAL was checkpointed instead");
    const segments = [...Deno.readDirSync(`${path}-bodies`)].filter((e) => e.name.endsWith(".log"));
    assert.deepEqual(segments, [], "and the segment went after it");
  } finally {
    await store.close();
  }
});

Deno.test("a slow sync sends the syncs to the pool, where a failed one is refused too", async () => {
  await using dir = await tempDir();
  const logged: string[] = [];
  const logger = createLogger({
    level: "info",
    format: "json",
    write: (line) => logged.push(line),
  });
  const store = open(`${dir.path}/messages.db`, logger);
  try {
    {
      using _ = patchFsFile("syncDataSync", () => busyWait(LOOP_SYNC_MAX_MS + 5));
      await store.enqueue(textMessage("slow"), upstream);
    }
    assert.ok(logged.some((line) => line.includes("syncs are slow")), logged.join("\n"));
    {
      using _ = patchFsFile("syncData", () => Promise.reject(eio()));
      await assert.rejects(store.enqueue(textMessage("failed"), upstream), /os error 5/);
    }
    await store.enqueue(textMessage("after"), upstream);
    const { seconds, ...syncs } = store.commitCounters().syncs;
    // "after" was made durable by a checkpoint (see the test above), not a sync.
    assert.deepEqual(syncs, { onLoop: 1, onPool: 1, toPool: 1 });
    assert.equal(seconds.count, 2, "each sync timed, on the pool too");
    const within100Ms = seconds.cumulative[seconds.bounds.indexOf(0.1)]!;
    assert.ok(within100Ms <= seconds.count - 1, "the slow one took over 100 ms");
    assert.deepEqual(
      store.take("upstream", 10).map((taken) => bodyText(taken.message)),
      ["slow", "failed", "after"],
    );
  } finally {
    await store.close();
  }
});

Deno.test("a failed sync of the body log refuses the large message before its row is committed", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const large = (text: string) => ({
    ...textMessage(text),
    body: new TextEncoder().encode(text.padEnd(16 * 1024, ".")),
  });
  const store = open(path);
  try {
    await store.enqueue(large("before"), upstream);
    {
      using _ = failingSyncs();
      await assert.rejects(store.enqueue(large("failed"), upstream), /sync of the body log/);
    }
    await store.enqueue(large("after"), upstream);
    assert.equal(store.commitCounters().failed, 1);
  } finally {
    await store.close();
  }
  // Refused before its commit: not in the file, unlike a message whose WAL sync failed.
  const reopened = open(path);
  try {
    const bodies = reopened.take("upstream", 10).map((taken) => bodyText(taken.message));
    assert.deepEqual(bodies.map((body) => body.replace(/\.+$/, "")), ["before", "after"]);
  } finally {
    await reopened.close();
  }
});
