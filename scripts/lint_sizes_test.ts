import assert from "node:assert/strict";
import plugin, { MAX_FILE_LINES, MAX_FUNCTION_LINES } from "./lint_sizes.ts";

function body(lines: number): string {
  return Array.from({ length: lines }, (_, i) => `  const v${i} = ${i};`).join("\n");
}

function report(filename: string, source: string): string[] {
  return Deno.lint.runPlugin(plugin, filename, source).map((d) => `${d.id}: ${d.message}`);
}

Deno.test("a function over the limit is reported by its name; one at the limit is not", () => {
  const atLimit = `export function small() {\n${body(MAX_FUNCTION_LINES - 2)}\n}\n`;
  assert.deepEqual(report("/p/core/a.ts", atLimit), []);
  const over = `export const big = () => {\n${body(MAX_FUNCTION_LINES - 1)}\n};\n`;
  assert.deepEqual(report("/p/core/a.ts", over), [
    `ledge-size/max-function-lines: big is ${
      MAX_FUNCTION_LINES + 1
    } lines (at most ${MAX_FUNCTION_LINES})`,
  ]);
  const method = `class A {\n  #run() {\n${body(MAX_FUNCTION_LINES)}\n  }\n}\n`;
  assert.match(report("/p/core/a.ts", method)[0]!, /#run is/);
});

Deno.test("a file over the limit is reported; tests are not held to either limit", () => {
  const long = Array.from({ length: MAX_FILE_LINES + 1 }, (_, i) => `export const v${i} = ${i};`)
    .join("\n");
  assert.match(report("/p/core/long.ts", long)[0]!, /max-file-lines: .*long\.ts is 401 lines/);
  assert.deepEqual(report("/p/core/long_test.ts", long), []);
  const over = `Deno.test("x", () => {\n${body(MAX_FUNCTION_LINES + 5)}\n});\n`;
  assert.deepEqual(report("/p/tests/a.ts", over), []);
});
