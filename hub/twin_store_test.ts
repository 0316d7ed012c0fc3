import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openTwinStore } from "./twin_store.ts";
import { heldSyncs, settled } from "./_held_syncs.ts";

Deno.test("a twin write is read back at once, and durable() waits for the WAL sync that covers it", async () => {
  const dir = await Deno.makeTempDir();
  const syncs = heldSyncs();
  const twins = openTwinStore(`${dir}/twins.db`, syncs.sync);
  try {
    assert.equal(twins.patchReported("d1/m1", { temperature: 21 }), 2);
    assert.deepEqual(twins.get("d1/m1").reported, { temperature: 21 }, "the write is visible");
    const first = twins.durable();
    const sync = await syncs.next();
    assert.equal(await settled(first), false, "not durable before the sync");
    // Writes during the sync share the next one.
    for (let i = 0; i < 5; i++) twins.patchReported("d1/m1", { temperature: 22 + i });
    twins.replaceDesired("d1/m2", { interval: 5 });
    const burst = twins.durable();
    sync.release();
    await first;
    assert.equal(await settled(burst), false, "a sync begun before the burst does not cover it");
    (await syncs.next()).release();
    await burst;
    assert.equal(syncs.begun, 2, "one sync for the six writes made meanwhile");
    assert.equal(await settled(twins.durable()), true, "nothing left to sync");
  } finally {
    await twins.close();
  }
  const reopened = openTwinStore(`${dir}/twins.db`);
  try {
    assert.equal(reopened.get("d1/m1").reportedVersion, 7);
    assert.deepEqual(reopened.get("d1/m2").desired, { interval: 5 });
  } finally {
    await reopened.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed WAL sync rejects durable() naming the file; the next write is made durable by a checkpoint into twins.db, the one after by a sync again", async () => {
  const dir = await Deno.makeTempDir();
  const syncs = heldSyncs();
  const twins = openTwinStore(`${dir}/twins.db`, syncs.sync);
  try {
    twins.patchReported("d1/m1", { temperature: 21 });
    const failing = twins.durable();
    (await syncs.next()).fail(new Error("EIO: input/output error"));
    await assert.rejects(failing, /Cannot sync the twins in .*twins\.db: EIO/);
    twins.patchReported("d1/m1", { temperature: 22 });
    const checkpointed = twins.durable();
    assert.equal(await settled(checkpointed), true, "durable without a sync of the WAL");
    await checkpointed;
    assert.equal(syncs.begun, 1, "no sync of the WAL after the failed one");
    // A later fdatasync may succeed without writing what the failed one could not: the twin is
    // in the database file itself, which is all a copy without the WAL has.
    await Deno.copyFile(`${dir}/twins.db`, `${dir}/without-wal.db`);
    const copy = new DatabaseSync(`${dir}/without-wal.db`, { readOnly: true });
    try {
      const row = copy.prepare("SELECT reported, reported_version FROM twins WHERE key = ?")
        .get("d1/m1");
      assert.deepEqual(JSON.parse(String(row?.reported)), { temperature: 22 });
      assert.equal(Number(row?.reported_version), 3);
    } finally {
      copy.close();
    }
    twins.patchReported("d1/m1", { temperature: 23 });
    const next = twins.durable();
    (await syncs.next()).release();
    await next;
    assert.equal(twins.get("d1/m1").reportedVersion, 4);
  } finally {
    await twins.close();
    await Deno.remove(dir, { recursive: true });
  }
});
