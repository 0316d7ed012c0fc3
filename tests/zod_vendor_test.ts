/**
 * core/zod.js, the "zod" of the import map, is what scripts/vendor_zod.ts writes from the zod
 * release its types come from, and it carries every member of `z` the sources use as a value:
 * its types are all of npm zod's, so a member it lacks would type-check and fail only when run.
 */
import assert from "node:assert/strict";
import { vendoredZod, ZOD_NAMES, ZOD_VERSION } from "../scripts/vendor_zod.ts";
import { z } from "zod";

const ROOT = new URL("../", import.meta.url);
const SKIPPED = new Set(["node_modules", "dist", ".git", ".cache"]);

async function sourceFiles(dir: URL): Promise<URL[]> {
  const files: URL[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (SKIPPED.has(entry.name)) continue;
    if (entry.isDirectory) files.push(...await sourceFiles(new URL(`${entry.name}/`, dir)));
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(new URL(entry.name, dir));
  }
  return files;
}

Deno.test("core/zod.js is what scripts/vendor_zod.ts writes, from the zod its types name", async () => {
  const declared = await Deno.readTextFile(new URL("core/zod.d.ts", ROOT));
  assert.match(declared, new RegExp(`"npm:zod@${ZOD_VERSION.replaceAll(".", "\\.")}"`));
  const written = await Deno.readTextFile(new URL("core/zod.js", ROOT));
  assert.ok(
    written === await vendoredZod(),
    "core/zod.js is stale: run deno run -A scripts/vendor_zod.ts",
  );
});

Deno.test("core/zod.js has each member of z that a source uses as a value", async () => {
  const npmZod = (await import(`npm:zod@${ZOD_VERSION}`)).z as Record<string, unknown>;
  const used = new Set<string>();
  for (const file of await sourceFiles(ROOT)) {
    const text = await Deno.readTextFile(file);
    for (const [, name] of text.matchAll(/\bz\.([A-Za-z_$][\w$]*)/g)) used.add(name!);
  }
  // A name npm zod has no value for is a type (z.infer); the rest must be in core/zod.js.
  const missing = [...used].filter((name) => name in npmZod && !(name in z)).sort();
  assert.deepEqual(missing, [], `add them to ZOD_NAMES in scripts/vendor_zod.ts, then run it`);
  for (const name of ZOD_NAMES) {
    assert.equal(typeof (z as Record<string, unknown>)[name], typeof npmZod[name], name);
  }
});
