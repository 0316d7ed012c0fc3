import assert from "node:assert/strict";
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function fromShell(root: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: ["-c", `source "${ROOT}scripts/_daemon_flags.sh" && daemon_v8_flags "$1"`, "-", root],
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

Deno.test("the scripts read the daemon's V8 flags from core/v8_flags.ts, as the daemon has them", async () => {
  const read = await fromShell(ROOT);
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout, `${DAEMON_V8_FLAGS}\n`);
});

Deno.test("the scripts stop, naming the file, when the flags cannot be read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/core`);
    await Deno.writeTextFile(`${dir}/core/v8_flags.ts`, "export const DAEMON_V8_FLAGS = FLAGS;\n");
    const read = await fromShell(dir);
    assert.equal(read.code, 1);
    assert.equal(read.stdout, "");
    assert.match(
      read.stderr,
      new RegExp(`Cannot read DAEMON_V8_FLAGS from ${dir}/core/v8_flags.ts`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the daemon's permissions are written out once, in scripts/_daemon_flags.sh", async () => {
  const list = /--allow-read --allow-write --allow-net --allow-env --allow-run --allow-sys/;
  const holders: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}scripts`)) {
    if (!entry.name.endsWith(".sh")) continue;
    if (list.test(await Deno.readTextFile(`${ROOT}scripts/${entry.name}`))) {
      holders.push(entry.name);
    }
  }
  assert.deepEqual(holders, ["_daemon_flags.sh"]);
  // The launcher gets them from release.sh, as it gets the V8 flags.
  assert.match(await Deno.readTextFile(`${ROOT}scripts/launcher.sh`), /"@@PERMISSIONS@@"/);
});
