import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { tempDir, textMessage } from "./_testing.ts";
import { openMessageStore } from "./message_store.ts";

const options = { maxSizeBytes: 64 * 1024 * 1024, purgeIntervalMs: 0 };

async function digest(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  const hash = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Asserts that opening `path` fails with `pattern` and leaves the file byte for byte as it was. */
async function assertRefused(path: string, pattern: RegExp): Promise<void> {
  const before = await digest(path);
  assert.throws(() => openMessageStore(path, options), pattern);
  assert.equal(await digest(path), before, "the file is left as it was");
}

Deno.test("a file that is not a database is refused with an error naming it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  await Deno.writeTextFile(path, "not a database, just text\n".repeat(200));
  await assertRefused(
    path,
    new RegExp(`^Error: Cannot open message store ${path}: file is not a database$`),
  );
});

Deno.test("a store with a damaged page is refused with an error naming it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const store = openMessageStore(path, options);
  await Promise.all(
    Array.from({ length: 2000 }, (_, i) =>
      store.enqueue(textMessage(`message ${i}`), [
        { endpoint: "upstream", priority: i % 3, ttlSeconds: 60 },
      ])),
  );
  await store.close();
  const { size } = await Deno.stat(path);
  const file = await Deno.open(path, { write: true });
  try {
    await file.seek(Math.floor(size / 4096 / 2) * 4096, Deno.SeekMode.Start);
    await file.write(new Uint8Array(4096).fill(0x5a));
  } finally {
    file.close();
  }
  await assertRefused(
    path,
    new RegExp(
      `^Error: Cannot open message store ${path}: (integrity check failed|database disk image is malformed)`,
    ),
  );
});

Deno.test("a SQLite file that is not a message store is refused, not changed", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/other.db`;
  const other = new DatabaseSync(path);
  other.exec("CREATE TABLE notes(text TEXT); INSERT INTO notes VALUES ('keep me')");
  other.close();
  await assertRefused(
    path,
    new RegExp(
      `Cannot open message store ${path}: it is a SQLite database but not a message store`,
    ),
  );
});

Deno.test("a store written by a newer ledge is refused", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  await openMessageStore(path, options).close();
  const db = new DatabaseSync(path);
  db.exec("PRAGMA user_version = 99");
  db.close();
  await assertRefused(
    path,
    /messages\.db: schema version 99 is newer than this ledge supports \(2\)/,
  );
});

Deno.test("a store in a missing directory is refused with an error naming it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/missing/messages.db`;
  assert.throws(
    () => openMessageStore(path, options),
    new RegExp(`^Error: Cannot open message store ${path}: No such file or directory`),
  );
});

Deno.test("a store already open elsewhere is refused with an error naming it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const first = openMessageStore(path, options);
  try {
    await first.enqueue(textMessage("a"), [{ endpoint: "upstream", priority: 0, ttlSeconds: -1 }]);
    assert.throws(
      () => openMessageStore(path, options),
      new RegExp(`^Error: Cannot open message store ${path}: database is locked`),
    );
    assert.equal(first.take("upstream", 1).length, 1, "the first store is not disturbed");
  } finally {
    await first.close();
  }
  await openMessageStore(path, options).close();
});
