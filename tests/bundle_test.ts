/**
 * The single-file artifact: `deno bundle` inlines every npm package, the file runs from an
 * empty directory, and it is ASCII throughout, which keeps its 4.4 MB of source out of V8's heap
 * (scripts/bundle.ts).
 */
import assert from "node:assert/strict";
import { VERSION } from "../core/version.ts";
import { bundleLedge } from "../scripts/bundle.ts";

Deno.test("the bundle runs `version` from an empty directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bundle-" });
  try {
    await bundleLedge(`${dir}/build/ledge.js`);
    // The console's files are text imports: inlined too (htmx from its npm package, our CSS).
    const text = await Deno.readTextFile(`${dir}/build/ledge.js`);
    assert.match(text, /var htmx=function\(\)/);
    assert.match(text, /ledge console: one stylesheet/);
    assert.doesNotMatch(text, /[\u0080-\u{10ffff}]/u);
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
