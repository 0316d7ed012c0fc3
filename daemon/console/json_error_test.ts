import assert from "node:assert/strict";
import { jsonErrorPlace } from "./json_error.ts";

Deno.test("jsonErrorPlace() accepts what JSON.parse accepts", () => {
  for (
    const text of ['{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]}', " 1 ", '""', "[]", "{}"]
  ) {
    JSON.parse(text);
    assert.equal(jsonErrorPlace(text), undefined, text);
  }
});

Deno.test("jsonErrorPlace() finds where JSON.parse stops", () => {
  const cases: [string, number, string][] = [
    ['{"a": }', 6, "a value"],
    ['{"a": 1,}', 8, "a key in double quotes"],
    ['{"a" 1}', 5, "':'"],
    ['{"a": 1 "b": 2}', 8, "',' or '}'"],
    ["[1, 2", 5, "',' or ']'"],
    ['{"a": "x', 8, "a closing quote"],
    ['{"a": "\\q"}', 7, "a valid escape"],
    ['{"a": "\\u12"}', 7, "four hex digits after \\u"],
    ["{a: 1}", 1, "a key in double quotes"],
    ["{} x", 3, "the end of the document"],
    ["01", 1, "the end of the document"],
    ["", 0, "a value"],
  ];
  for (const [text, offset, expected] of cases) {
    assert.throws(() => JSON.parse(text));
    assert.deepEqual(jsonErrorPlace(text), { offset, expected }, text);
  }
});
