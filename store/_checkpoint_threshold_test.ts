import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { silentLogger } from "../core/log.ts";
import { CheckpointThreshold } from "./_checkpoint_threshold.ts";
import { DiskGuard } from "./_disk_guard.ts";
import { tempDir } from "./_testing.ts";

const MiB = 1024 * 1024;

Deno.test("CheckpointThreshold lets the WAL grow to 16 MiB only while the disk has room to spare", async () => {
  await using dir = await tempDir();
  let free = 4096 * MiB;
  const guard = new DiskGuard("/nonexistent/messages.db", {
    minFreeBytes: 16 * MiB,
    reserveBytes: 0,
    freeSpace: () => free,
    log: silentLogger,
  });
  const db = new DatabaseSync(`${dir.path}/messages.db`);
  db.exec("PRAGMA journal_mode = WAL");
  try {
    const pages = () => Number(db.prepare("PRAGMA wal_autocheckpoint").get()?.wal_autocheckpoint);
    guard.measure();
    const threshold = new CheckpointThreshold(db, guard);
    assert.equal(pages(), 4000);
    free = 200 * MiB;
    guard.measure();
    threshold.update();
    assert.equal(pages(), 1000, "near the floor, SQLite's default");
    free = 1024 * MiB;
    guard.measure();
    threshold.update();
    assert.equal(pages(), 4000);
  } finally {
    db.close();
  }
});
