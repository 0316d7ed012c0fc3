import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fileNumber, tempDir } from "./_testing.ts";
import { openMessageStore } from "./message_store.ts";
import type { MessageStore } from "./store_types.ts";

const TARGET = [{ endpoint: "in", priority: 0, ttlSeconds: -1 }];
/**
 * Body sizes from a few bytes to 64 KiB: in the leaf, over an overflow page, and from 4 KiB on in
 * the body log (message_store_body_log_test.ts has large bodies in pages once the log is full).
 */
const SIZES = [10, 300, 4000, 8100, 8300, 16 * 1024, 16 * 1024 + 1, 40_000, 64 * 1024];

function body(n: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (n * 31 + i * 7) & 0xff;
  return bytes;
}

function open(path: string): MessageStore {
  return openMessageStore(path, { maxSizeBytes: 1024 * 1024 * 1024, purgeIntervalMs: 0 });
}

function pageSize(path: string): number {
  return fileNumber(path, "PRAGMA page_size");
}

/** Enqueues a message of each size; returns their numbers. */
async function enqueueAll(store: MessageStore, first: number): Promise<number[]> {
  const numbers = SIZES.map((_, i) => first + i);
  await Promise.all(numbers.map((n, i) =>
    store.enqueue(
      { body: body(n, SIZES[i]!), appProperties: { n: String(n) }, systemProperties: {} },
      TARGET,
    )
  ));
  return numbers;
}

/** Takes everything from "in": each message's number, checked against its body. */
function takeAll(store: MessageStore): { n: number; seq: number }[] {
  const taken = store.take("in", 1000);
  return taken.map((queued) => {
    const n = Number(queued.message.appProperties.n);
    const size = SIZES[n % SIZES.length]!;
    assert.deepEqual(queued.message.body, body(n, size), `body of message ${n}`);
    return { n, seq: queued.seq };
  });
}

/** Round trip: enqueue, reopen, take all, ack half, reopen, the other half is still there. */
async function roundTrip(path: string, first: number): Promise<void> {
  let store = open(path);
  const numbers = await enqueueAll(store, first);
  await store.close();
  store = open(path);
  let taken: { n: number; seq: number }[];
  try {
    taken = takeAll(store);
    assert.deepEqual(taken.map((t) => t.n).sort((a, b) => a - b), numbers);
    store.ack("in", taken.filter((t) => t.n % 2 === 0).map((t) => t.seq));
  } finally {
    await store.close();
  }
  store = open(path);
  try {
    const left = takeAll(store);
    assert.deepEqual(
      left.map((t) => t.n).sort((a, b) => a - b),
      numbers.filter((n) => n % 2 === 1),
    );
    store.ack("in", left.map((t) => t.seq));
  } finally {
    await store.close();
  }
}

Deno.test("a new store file has 4 KiB pages; messages of 10 B to 64 KiB round trip across reopens", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  await roundTrip(path, 0);
  assert.equal(pageSize(path), 4096);
});

Deno.test("a store file with 8 KiB pages (earlier versions) keeps them and works on", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  await (open(path)).close();
  // An earlier version's file: the same schema in 8 KiB pages.
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = DELETE; PRAGMA page_size = 8192; VACUUM");
  db.close();
  assert.equal(pageSize(path), 8192);
  await roundTrip(path, 0);
  await roundTrip(path, SIZES.length);
  assert.equal(pageSize(path), 8192);
});

Deno.test("a page size that SQLite cannot use is refused at open", async () => {
  await using dir = await tempDir();
  for (const pageBytes of [3000, 256, 131072, 8192.5]) {
    assert.throws(
      () => openMessageStore(`${dir.path}/messages.db`, { maxSizeBytes: 1024, pageBytes }),
      RangeError,
    );
  }
});
