import assert from "node:assert/strict";
import { asciiBundle, withRequire } from "./bundle.ts";

Deno.test("asciiBundle() escapes the non-ASCII characters of comment lines and nothing else", () => {
  const text = [
    "/** The first \u2014 and the last \u2026 */",
    "   * a block comment's line: 64\u201371, \u{1f600}",
    "// a line comment \u2192 here",
    "// Latin-1 too: caf\u00e9 \u00b7 \u00a7",
    'const s = "ascii";',
  ].join("\n");
  assert.equal(
    asciiBundle(text),
    [
      "/** The first \\u2014 and the last \\u2026 */",
      "   * a block comment's line: 64\\u201371, \\u{1f600}",
      "// a line comment \\u2192 here",
      "// Latin-1 too: caf\\u00e9 \\u00b7 \\u00a7",
      'const s = "ascii";',
    ].join("\n"),
  );
});

Deno.test("asciiBundle() refuses a non-ASCII character outside a comment, naming its line", () => {
  assert.throws(
    () => asciiBundle('const a = 1;\nconst mark = "\u00b7";'),
    /outside a comment.*\n {2}line 2: const mark = "\u00b7";/s,
  );
});

Deno.test("withRequire() gives the file of esbuild's require shim a require, and no other file", () => {
  const shim = `var o=function(a){throw Error('Dynamic require of "'+a+'" is not supported')};`;
  assert.match(withRequire(shim), /^import \w+ ?from ?"node:process";.*function require\(/);
  assert.ok(!withRequire(shim).includes('from"node:module"'), "node:module is loaded on first use");
  assert.ok(withRequire(shim).endsWith(shim));
  assert.equal(withRequire("var a=1;"), "var a=1;");
});
