/**
 * Writes core/zod.js: zod as one ASCII file holding only the builders ledge calls, which the
 * import map serves as "zod" (its types stay npm zod's, through core/zod.d.ts). npm's zod is 95
 * modules, among them 64 locales that every entry point re-exports, most of them non-ASCII: it
 * added ~10 MB of RSS, this file ~4 MB (probe: hono + smol-toml + one schema parsed, 3 runs
 * each); `ledge run` idles at 80.5 MB instead of 84.4 (3 alternated pairs). Error messages are zod's own (its English locale is in).
 *
 * `deno run --allow-read --allow-write --allow-run --allow-env scripts/vendor_zod.ts` after
 * changing {@linkcode ZOD_VERSION} or {@linkcode ZOD_NAMES}; tests/zod_vendor_test.ts checks the
 * file is what this script writes and that every `z.<name>` the sources use is in it.
 */
import { asciiBundle } from "./bundle.ts";

/** The zod release core/zod.js is built from (its types: core/zod.d.ts). */
export const ZOD_VERSION = "4.6.7";

/** The members of zod's `z` that core/zod.js carries: what ledge uses, and a few close to it. */
export const ZOD_NAMES: readonly string[] = [
  "NEVER",
  "ZodError",
  "ZodObject",
  "ZodType",
  "any",
  "array",
  "boolean",
  "custom",
  "discriminatedUnion",
  "enum",
  "input",
  "int",
  "literal",
  "looseObject",
  "never",
  "null",
  "nullable",
  "number",
  "object",
  "optional",
  "output",
  "prettifyError",
  "record",
  "strictObject",
  "string",
  "toJSONSchema",
  "treeifyError",
  "tuple",
  "union",
  "unknown",
];

const ROOT = new URL("../", import.meta.url).pathname;

/** zod's licence, which its copies carry. */
const ZOD_LICENSE = `MIT License

Copyright (c) 2025 Colin McDonnell

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.`;

/** The text of core/zod.js, built by `deno bundle` from npm's zod. */
export async function vendoredZod(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-zod-" });
  try {
    // Members by property (enum, null are keywords), which esbuild still tree-shakes.
    const members = ZOD_NAMES.map((name) => `${name}: zod.${name}`).join(", ");
    await Deno.writeTextFile(
      `${dir}/entry.js`,
      `import * as zod from "npm:zod@${ZOD_VERSION}";\n` +
        `export const z = Object.freeze({ ${members} });\n`,
    );
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--no-config",
        "--platform",
        "deno",
        "-o",
        `${dir}/zod.js`,
        "entry.js",
      ],
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(`Cannot bundle zod: ${new TextDecoder().decode(stderr).slice(-2000)}`);
    }
    const header = [
      '// @ts-self-types="./zod.d.ts"',
      `// zod ${ZOD_VERSION} (https://github.com/colinhacks/zod), the members of \`z\` in`,
      "// scripts/vendor_zod.ts, bundled by that script. Generated: do not edit.",
      ...ZOD_LICENSE.split("\n").map((line) => `// ${line}`.trimEnd()),
    ].join("\n");
    // esbuild names each inlined file by its path from the temp dir into Deno's npm cache:
    // written as `zod/<file>`, so the output is the same whatever DENO_DIR and TMPDIR are.
    const bundled = (await Deno.readTextFile(`${dir}/zod.js`))
      .replace(/^\/\/ \S*\/zod\/(?:\d+\.\d+\.\d+\/)?(\S+\.js)$/gm, "// zod/$1");
    return `${header}\n${asciiBundle(bundled)}`;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await Deno.writeTextFile(`${ROOT}core/zod.js`, await vendoredZod());
