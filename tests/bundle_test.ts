/**
 * The single-file artifact: `deno bundle` inlines every npm package, and the file runs from an
 * empty directory.
 */
import assert from "node:assert/strict";
import { VERSION } from "../core/version.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("the bundle runs `version` from an empty directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bundle-" });
  try {
    const bundled = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "deno", "-o", `${dir}/build/ledge.js`, "main.ts"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(bundled.code, 0, new TextDecoder().decode(bundled.stderr));
    // The console's files are text imports: inlined too (htmx from its npm package, our CSS).
    const text = await Deno.readTextFile(`${dir}/build/ledge.js`);
    assert.match(text, /var htmx=function\(\)/);
    assert.match(text, /ledge console: one stylesheet/);
    const empty = `${dir}/empty`;
    await Deno.mkdir(empty);
    await Deno.copyFile(`${dir}/build/ledge.js`, `${empty}/ledge.js`);
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--no-config", "ledge.js", "version", "--json"],
      cwd: empty,
      env: { HOME: empty, DENO_DIR: `${dir}/deno-dir` },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, stderr);
    const info = JSON.parse(new TextDecoder().decode(run.stdout));
    assert.equal(info.ledge, VERSION);
    assert.equal(info.target, Deno.build.target);
    const leftovers = [...Deno.readDirSync(empty)].map((entry) => entry.name).sort();
    assert.deepEqual(leftovers, ["ledge.js"], "nothing was fetched next to the bundle");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
