import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { WalSyncRecovery } from "./wal_checkpoint.ts";

Deno.test("WalSyncRecovery: due after a failed sync; a checkpoint a reader blocks throws and stays due; one that completes empties the WAL", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/db`;
  const db = new DatabaseSync(path);
  const reader = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t (v INTEGER)");
    db.exec("INSERT INTO t VALUES (1)");
    const recovery = new WalSyncRecovery(db);
    assert.equal(recovery.checkpointDue, false);
    recovery.syncFailed();
    assert.equal(recovery.checkpointDue, true);
    // A reader holding its snapshot keeps the WAL from being emptied.
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM t").get();
    db.exec("INSERT INTO t VALUES (2)");
    assert.throws(() => recovery.checkpoint(), /could not copy every frame/);
    assert.equal(recovery.checkpointDue, true, "still due after a checkpoint that failed");
    reader.exec("COMMIT");
    recovery.checkpoint();
    assert.equal(recovery.checkpointDue, false);
    assert.equal(Deno.statSync(`${path}-wal`).size, 0, "the WAL is emptied");
    // Everything is in the database file itself: a copy without the WAL has both rows.
    await Deno.copyFile(path, `${dir}/copy`);
    const copy = new DatabaseSync(`${dir}/copy`, { readOnly: true });
    try {
      assert.equal(Number(copy.prepare("SELECT count(*) AS n FROM t").get()?.n), 2);
    } finally {
      copy.close();
    }
  } finally {
    reader.close();
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
