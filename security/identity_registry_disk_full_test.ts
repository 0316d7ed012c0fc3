import assert from "node:assert/strict";
import { serviceTest } from "../tests/_services.ts";
import { fillDisk, mountTmpfs, rootRequirement } from "../tests/_tmpfs.ts";
import { openIdentityRegistry } from "./identity_registry.ts";

function identity(i: number) {
  return {
    deviceId: `device-${i}`.padEnd(120, "x"),
    kind: "leaf-device" as const,
    generationId: String(i),
    auth: { type: "none" as const },
    createdAt: new Date(0).toISOString(),
  };
}

serviceTest(
  "identities.json on a full disk: an add that cannot be written throws naming the file, and the registry in memory and on disk stays as it was",
  [rootRequirement],
  async () => {
    await using disk = await mountTmpfs(1024 * 1024);
    const path = `${disk.path}/identities.json`;
    const registry = await openIdentityRegistry(path);
    for (let i = 0; i < 20; i++) await registry.add(identity(i));
    const before = await Deno.readTextFile(path);
    await fillDisk(`${disk.path}/filler`);

    await assert.rejects(registry.add(identity(20)), /Cannot write .*identities\.json: .*space/i);
    assert.equal(registry.list().length, 20, "the failed add is not in memory");
    await assert.rejects(registry.remove(identity(0).deviceId), /identities\.json/);
    assert.ok(registry.get(identity(0).deviceId), "the failed remove is undone in memory");
    assert.equal(await Deno.readTextFile(path), before, "the file is untouched");
    const leftovers = [...Deno.readDirSync(disk.path)].filter((e) => e.name.includes(".tmp-"));
    assert.deepEqual(leftovers, [], "no temp file is left behind");
    assert.equal((await openIdentityRegistry(path)).list().length, 20);

    await Deno.remove(`${disk.path}/filler`);
    await registry.add(identity(20));
    assert.equal((await openIdentityRegistry(path)).list().length, 21);
  },
);

serviceTest(
  "identities.json on a nearly full disk: a write that fits only in part is an error, never a truncated file",
  [rootRequirement],
  async () => {
    await using disk = await mountTmpfs(1024 * 1024);
    const path = `${disk.path}/identities.json`;
    const registry = await openIdentityRegistry(path);
    for (let i = 0; i < 60; i++) await registry.add(identity(i));
    const before = await Deno.readTextFile(path);
    // Room for a part of the next version of the file only (it is ~20 KiB).
    await Deno.writeFile(`${disk.path}/room`, new Uint8Array(8 * 1024));
    await fillDisk(`${disk.path}/filler`);
    await Deno.remove(`${disk.path}/room`);

    await assert.rejects(registry.add(identity(60)), /Cannot write .*identities\.json/);
    assert.equal(await Deno.readTextFile(path), before, "the file is untouched");
    assert.equal((await openIdentityRegistry(path)).list().length, 60);
  },
);
