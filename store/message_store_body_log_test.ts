import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fileNumber, storeFileBytes, tempDir } from "./_testing.ts";
import { LOG_MAX_BYTES } from "./_body_log.ts";
import { openMessageStore } from "./message_store.ts";
import { createLogger } from "../core/log.ts";
import type { MessageStore, StoreOptions } from "./store_types.ts";

const KiB = 1024;
const upstream = [{ endpoint: "upstream", priority: 0, ttlSeconds: -1 }];
const options: StoreOptions = { maxSizeBytes: 1 << 30, purgeIntervalMs: 0 };

/** Message `n`: a body of `bytes` that says which one it is. */
function numbered(n: number, bytes: number) {
  const body = new Uint8Array(bytes).fill(n & 0xff);
  new DataView(body.buffer).setUint32(0, n);
  return { body, appProperties: { n: String(n) }, systemProperties: {} };
}

/** Takes (and acks) everything queued; checks each body is the one its number says. */
function drainChecked(store: MessageStore, bytes: (n: number) => number): number[] {
  const numbers: number[] = [];
  for (;;) {
    const batch = store.take("upstream", 500);
    if (batch.length === 0) return numbers;
    for (const { message } of batch) {
      const n = Number(message.appProperties.n);
      assert.deepEqual(message.body, numbered(n, bytes(n)).body, `the body of message ${n}`);
      numbers.push(n);
    }
    store.ack("upstream", batch.map((m) => m.seq));
  }
}

function segmentFiles(path: string): string[] {
  try {
    return [...Deno.readDirSync(`${path}-bodies`)].map((entry) => entry.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

const sizeOf = (n: number) => (n % 2 === 0 ? 16 * KiB : 100);

Deno.test("bodies of 4 KiB and more go to the body log, and read back after a reopen", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  let store = openMessageStore(path, options);
  try {
    await Promise.all(
      Array.from({ length: 40 }, (_, n) => store.enqueue(numbered(n, sizeOf(n)), upstream)),
    );
    assert.equal(segmentFiles(path).length, 1);
    await store.close();
    assert.equal(fileNumber(path, "SELECT count(*) FROM messages WHERE logged IS NOT NULL"), 20);
    assert.equal(
      fileNumber(path, "SELECT max(length(body)) FROM messages WHERE logged IS NOT NULL"),
      8,
    );
    assert.equal(fileNumber(path, "PRAGMA user_version"), 2);
    store = openMessageStore(path, options);
    assert.deepEqual(drainChecked(store, sizeOf), Array.from({ length: 40 }, (_, n) => n));
  } finally {
    await store.close();
  }
  assert.deepEqual(segmentFiles(path), [], "a drained store keeps no segment once closed");
});

Deno.test("a segment is removed once its messages are acked and that is durable, not before", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  // Acks commit at the next turn of the event loop.
  const store = openMessageStore(path, { ...options, ackWindowMs: 0 });
  try {
    // 600 x 16 KiB: three 4 MiB segments.
    const all = Array.from({ length: 600 }, (_, n) => n);
    await Promise.all(all.map((n) => store.enqueue(numbered(n, 16 * KiB), upstream)));
    const [first, second] = segmentFiles(path).map((name) => Number.parseInt(name));
    assert.equal(segmentFiles(path).length, 3);
    const taken = store.take("upstream", 300);
    store.ack("upstream", taken.map((m) => m.seq));
    store.purgeExpired();
    assert.equal(segmentFiles(path).length, 3, "acks not committed yet: every segment stays");
    // Committed with (or before) this enqueue's commit, at a later turn.
    await store.enqueue(numbered(600, 100), upstream);
    store.purgeExpired();
    const left = segmentFiles(path).map((name) => Number.parseInt(name));
    assert.ok(!left.includes(first!), "the first segment's messages are all acked: it went");
    assert.equal(left.length, 2);
    assert.ok(left.includes(second!), "the second one holds messages still queued");
    const rest = drainChecked(store, (n) => (n === 600 ? 100 : 16 * KiB));
    assert.deepEqual(rest, [...all.slice(300), 600]);
  } finally {
    await store.close();
  }
  assert.deepEqual(segmentFiles(path), []);
});

Deno.test("past LOG_MAX_BYTES of segments, large bodies go into the database again", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  let store = openMessageStore(path, options);
  const count = Math.ceil((LOG_MAX_BYTES * 1.25) / (16 * KiB));
  try {
    for (let start = 0; start < count; start += 500) {
      const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) => start + i);
      await Promise.all(batch.map((n) => store.enqueue(numbered(n, 16 * KiB), upstream)));
    }
    await store.close();
    const logged = fileNumber(path, "SELECT count(*) FROM messages WHERE logged IS NOT NULL");
    assert.ok(logged * 16 * KiB >= LOG_MAX_BYTES && logged < count, `${logged} of ${count} logged`);
    const inLog = storeFileBytes(path) - Deno.statSync(path).size - walBytes(path);
    assert.ok(inLog < LOG_MAX_BYTES + 64 * KiB, `the log holds ${inLog} bytes`);
    store = openMessageStore(path, options);
    assert.equal(drainChecked(store, () => 16 * KiB).length, count);
  } finally {
    await store.close();
  }
});

function walBytes(path: string): number {
  try {
    return Deno.statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

Deno.test("compatibleFormat keeps the previous ledge's format until useCurrentFormat()", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const compatible = { ...options, compatibleFormat: true };
  let store = openMessageStore(path, compatible);
  try {
    await store.enqueue(numbered(0, 16 * KiB), upstream);
    assert.deepEqual(segmentFiles(path), [], "the body stays in the database");
    await store.close();
    assert.equal(fileNumber(path, "PRAGMA user_version"), 1, "a file the previous ledge opens");
    assert.equal(fileNumber(path, "SELECT count(*) FROM messages WHERE logged IS NOT NULL"), 0);

    store = openMessageStore(path, compatible);
    await store.enqueue(numbered(1, 16 * KiB), upstream);
    assert.deepEqual(segmentFiles(path), []);
    store.useCurrentFormat();
    await store.enqueue(numbered(2, 16 * KiB), upstream);
    assert.equal(segmentFiles(path).length, 1, "from then on, large bodies are logged");
    await store.close();
    assert.equal(fileNumber(path, "PRAGMA user_version"), 2);

    // Once current, a file stays current: the previous ledge could not read it any more.
    store = openMessageStore(path, compatible);
    await store.enqueue(numbered(3, 16 * KiB), upstream);
    assert.deepEqual(drainChecked(store, () => 16 * KiB), [0, 1, 2, 3]);
  } finally {
    await store.close();
  }
});

Deno.test("a file of the previous ledge (version 1) opens, keeps its messages and moves on", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  let store = openMessageStore(path, { ...options, compatibleFormat: true });
  await Promise.all([0, 1].map((n) => store.enqueue(numbered(n, sizeOf(n)), upstream)));
  await store.close();
  // What the previous ledge wrote: version 1, without the logged column.
  const db = new DatabaseSync(path);
  db.exec("ALTER TABLE messages DROP COLUMN logged");
  db.close();

  store = openMessageStore(path, options);
  try {
    await Promise.all([2, 3].map((n) => store.enqueue(numbered(n, sizeOf(n)), upstream)));
    assert.equal(segmentFiles(path).length, 1);
    await store.close();
    assert.equal(fileNumber(path, "PRAGMA user_version"), 2);
    store = openMessageStore(path, options);
    assert.deepEqual(drainChecked(store, sizeOf), [0, 1, 2, 3]);
  } finally {
    await store.close();
  }
});

Deno.test("a message whose body is gone from the body log is dropped and logged; its queue goes on", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  let store = openMessageStore(path, options);
  await Promise.all([0, 1, 2, 3].map((n) => store.enqueue(numbered(n, sizeOf(n)), upstream)));
  await store.close();
  // Something outside ledge removed the segment (a cleanup script, a damaged disk).
  for (const name of segmentFiles(path)) Deno.removeSync(`${path}-bodies/${name}`);
  const lines: string[] = [];
  const logger = createLogger({ level: "info", format: "json", write: (line) => lines.push(line) });
  store = openMessageStore(path, { ...options, logger });
  try {
    assert.deepEqual(drainChecked(store, sizeOf), [1, 3], "the messages kept in the file");
    const dropped = lines.filter((line) => line.includes("bodies are missing from the body log"));
    // Messages 0 and 2 (16 KiB) were enqueued first and third: seqs 1 and 3, in one line.
    assert.equal(dropped.length, 1, lines.join("\n"));
    const { messages, seqs } = JSON.parse(dropped[0]!);
    assert.deepEqual({ messages, seqs }, { messages: 2, seqs: "1, 3" });
    assert.match(dropped[0]!, /"endpoint":"upstream".*messages\.db-bodies/);
    assert.equal(store.stats()[0]!.dropped.lost, 2, "counted in the queue's stats");
    await store.close();
    store = openMessageStore(path, options);
    assert.equal(store.stats()[0]!.count, 0, "the lost rows were deleted, not left to fail again");
  } finally {
    await store.close();
  }
});
