import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { serviceTest } from "../tests/_services.ts";
import { fillDisk, mountTmpfs, rootRequirement } from "../tests/_tmpfs.ts";
import { openTwinStore } from "./twin_store.ts";

/** Reported patches of 4 KiB until one fails; returns the error and the last version saved. */
function patchUntilRefused(twins: ReturnType<typeof openTwinStore>, key: string) {
  let version = twins.get(key).reportedVersion;
  for (let i = 0; i < 10_000; i++) {
    try {
      version = twins.patchReported(key, { [`p${i % 4}`]: `${i}:`.padEnd(4096, "x") });
    } catch (error) {
      return { error: error as Error, version };
    }
  }
  throw new Error("no write was refused on a full disk");
}

serviceTest(
  "twins.db on a full disk: a write that cannot happen throws naming the file and changes nothing; the file opens, intact, on the full disk",
  [rootRequirement],
  async () => {
    await using disk = await mountTmpfs(4 * 1024 * 1024);
    const path = `${disk.path}/twins.db`;
    let twins = openTwinStore(path);
    twins.patchReported("d1/m1", { temperature: 21 });
    twins.replaceDesired("d1/m1", { interval: 5 });
    // A clean close: SQLite checkpoints and deletes the WAL, so the next open must make one.
    await twins.close();
    twins = openTwinStore(path);
    await fillDisk(`${disk.path}/filler`);
    const { error, version } = patchUntilRefused(twins, "d1/m1");
    assert.match(error.message, /Cannot save the twin of d1\/m1 in .*twins\.db: .*full/);
    assert.equal(twins.get("d1/m1").reportedVersion, version, "the cache did not move");
    assert.throws(() => twins.replaceDesired("d1/m1", { interval: 6 }), /twins\.db/);
    assert.equal(twins.get("d1/m1").desired.interval, 5);
    await twins.close();

    // Opens on the full disk with everything that was saved.
    twins = openTwinStore(path);
    assert.equal(twins.get("d1/m1").reportedVersion, version);
    assert.deepEqual(twins.get("d1/m1").desired, { interval: 5 });
    await twins.close();

    await Deno.remove(`${disk.path}/filler`);
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      assert.equal(db.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
    } finally {
      db.close();
    }
    twins = openTwinStore(path);
    assert.equal(twins.patchReported("d1/m1", { temperature: 22 }), version + 1);
    await twins.close();
  },
);
