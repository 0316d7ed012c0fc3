import assert from "node:assert/strict";
import { createPrivateFile, tightenStateDir } from "./state_dir.ts";

async function mode(path: string): Promise<number> {
  return (await Deno.lstat(path)).mode! & 0o777;
}

Deno.test("tightenStateDir() makes files 0600 and directories 0700, leaving mnt/<module> as it is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-state-" });
  try {
    await Deno.mkdir(`${dir}/hub`, { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/hub/twins.db`, "", { mode: 0o644 });
    await Deno.writeTextFile(`${dir}/identities.json`, "", { mode: 0o600 });
    await Deno.mkdir(`${dir}/mnt/sensor`, { recursive: true, mode: 0o755 });
    await Deno.chmod(`${dir}/mnt/sensor`, 0o755);
    await Deno.writeTextFile(`${dir}/mnt/sensor/note`, "", { mode: 0o640 });
    await Deno.symlink("/etc/hostname", `${dir}/link`);
    await Deno.chmod(`${dir}/hub/twins.db`, 0o644);

    const changed = await tightenStateDir(dir);
    assert.deepEqual(
      changed.sort(),
      [
        `${dir}/hub`,
        `${dir}/hub/twins.db`,
        `${dir}/mnt`,
        `${dir}/mnt/sensor/note`,
      ].sort(),
    );
    assert.equal(await mode(`${dir}/hub`), 0o700);
    assert.equal(await mode(`${dir}/hub/twins.db`), 0o600);
    assert.equal(await mode(`${dir}/mnt`), 0o700);
    assert.equal(await mode(`${dir}/mnt/sensor`), 0o755, "bind-mounted into the module");
    assert.equal(await mode(`${dir}/mnt/sensor/note`), 0o600);
    assert.deepEqual(await tightenStateDir(dir), [], "nothing left to change");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createPrivateFile() creates 0600 whatever the umask, and keeps an existing file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-state-" });
  try {
    createPrivateFile(`${dir}/a.db`);
    assert.equal(await mode(`${dir}/a.db`), 0o600);
    await Deno.writeTextFile(`${dir}/a.db`, "kept");
    createPrivateFile(`${dir}/a.db`);
    assert.equal(await Deno.readTextFile(`${dir}/a.db`), "kept");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
