import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { bodyText, fileNumber, manualClock, tempDir, textMessage } from "./_testing.ts";
import { openMessageStore } from "./message_store.ts";
import type { EnqueueTarget, MessageStore, StoreOptions } from "./store_types.ts";

function to(endpoint: string, ttlSeconds: number, priority = 0): EnqueueTarget {
  return { endpoint, priority, ttlSeconds };
}

function open(dir: string, options: Partial<StoreOptions> = {}) {
  return openMessageStore(`${dir}/messages.db`, {
    maxSizeBytes: 1 << 26,
    purgeIntervalMs: 0,
    ...options,
  });
}

/** The bodies of what `endpoint` would deliver now, released again. */
function deliverable(store: MessageStore, endpoint: string): string[] {
  const taken = store.take(endpoint, 1000);
  store.release(endpoint, taken.map((m) => m.seq));
  return taken.map((m) => bodyText(m.message));
}

/** Rows left in the file per endpoint name, expired or not (what a purge must have deleted). */
function rowsInFile(path: string): number {
  return fileNumber(path, "SELECT count(*) FROM queue");
}

Deno.test("purgeExpired() deletes exactly the expired rows, whatever order their TTLs come in", async (t) => {
  for (const restart of [false, true]) {
    await t.step(
      restart ? "after a restart (the order read from the file)" : "in one run",
      async () => {
        await using dir = await tempDir();
        const clock = manualClock();
        let store = open(dir.path, { now: clock.now });
        try {
          // "in order": one TTL per priority, rows expire head first; "mixed": a short TTL behind
          // a long one and behind one that never expires, in one priority.
          for (let i = 0; i < 3; i++) {
            await store.enqueue(textMessage(`a${i}`), [to("in order", 10)]);
          }
          clock.advance(5_000);
          for (let i = 3; i < 6; i++) {
            await store.enqueue(textMessage(`a${i}`), [to("in order", 10)]);
          }
          await store.enqueue(textMessage("urgent"), [to("in order", 1, 1)]);
          await store.enqueue(textMessage("long"), [to("mixed", 3600)]);
          await store.enqueue(textMessage("never"), [to("mixed", -1)]);
          await store.enqueue(textMessage("short"), [to("mixed", 1)]);
          if (restart) {
            await store.close();
            store = open(dir.path, { now: clock.now });
          }
          assert.equal(store.purgeExpired(), 0, "nothing expired yet");
          clock.advance(5_000);
          assert.equal(store.purgeExpired(), 5, "a0-a2, urgent, short");
          assert.deepEqual(deliverable(store, "in order"), ["a3", "a4", "a5"]);
          assert.deepEqual(deliverable(store, "mixed"), ["long", "never"]);
          clock.advance(5_000);
          assert.equal(store.purgeExpired(), 3, "a3-a5");
          clock.advance(3600_000);
          assert.equal(store.purgeExpired(), 1, "long");
          assert.deepEqual(deliverable(store, "mixed"), ["never"]);
          assert.deepEqual(
            store.stats().map((s) => [s.endpoint, s.count, s.dropped.expired]),
            [["in order", 0, 7], ["mixed", 1, 2]],
          );
        } finally {
          await store.close();
        }
        assert.equal(rowsInFile(`${dir.path}/messages.db`), 1);
      },
    );
  }
});

Deno.test("purgeExpired() keeps an expired message in flight, and deletes it once released", async () => {
  await using dir = await tempDir();
  const clock = manualClock();
  const store = open(dir.path, { now: clock.now });
  try {
    for (let i = 0; i < 4; i++) await store.enqueue(textMessage(`m${i}`), [to("in", 10)]);
    const [first, second] = store.take("in", 2);
    clock.advance(10_000);
    assert.equal(store.purgeExpired(), 2, "the two not taken");
    store.ack("in", first!.seq);
    store.release("in", [second!.seq]);
    assert.equal(store.purgeExpired(), 1, "the released one; the acked one is no drop");
    assert.deepEqual(store.stats()[0]!.dropped.expired, 3);
    assert.equal(store.stats()[0]!.count, 0);
  } finally {
    await store.close();
  }
});

Deno.test("a store file with the expiry index of earlier versions loses it at open and works on", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const clock = manualClock();
  let store = open(dir.path, { now: clock.now });
  await store.enqueue(textMessage("kept"), [to("in", -1)]);
  await store.enqueue(textMessage("expires"), [to("in", 10)]);
  await store.close();
  const db = new DatabaseSync(path);
  db.exec(
    "CREATE INDEX queue_expiry ON queue(expires_at) WHERE expires_at IS NOT NULL",
  );
  db.close();
  store = open(dir.path, { now: clock.now });
  try {
    clock.advance(10_000);
    assert.equal(store.purgeExpired(), 1);
    assert.deepEqual(deliverable(store, "in"), ["kept"]);
  } finally {
    await store.close();
  }
  const check = new DatabaseSync(path);
  try {
    const indexes = check.prepare("SELECT name FROM sqlite_schema WHERE type = 'index'").all();
    assert.ok(!indexes.some((row) => row.name === "queue_expiry"), JSON.stringify(indexes));
  } finally {
    check.close();
  }
});
