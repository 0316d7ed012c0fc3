import assert from "node:assert/strict";
import { lineAndColumn, readDesiredEdit } from "./twin_edit.ts";

function issues(text: string) {
  const edit = readDesiredEdit(text, {});
  assert.equal(edit.ok, false, `accepted: ${text}`);
  return edit.ok ? [] : edit.issues;
}

Deno.test("readDesiredEdit() sends the merge patch from the current document to the edited one", () => {
  const edit = readDesiredEdit(
    '{"interval": 5, "limits": {"high": 30}, "tags": ["a"]}',
    { $version: 4, interval: 1, old: true, limits: { high: 20, low: 1 }, tags: ["a"] },
  );
  assert.ok(edit.ok);
  assert.deepEqual(edit.patch, { old: null, interval: 5, limits: { low: null, high: 30 } });
  assert.deepEqual(readDesiredEdit('{"a": 1}', { a: 1, $version: 2 }), {
    ok: true,
    desired: { a: 1 },
    patch: {},
  });
});

Deno.test("readDesiredEdit() names where the JSON breaks", () => {
  const [issue] = issues('{\n  "a": 1,\n  "b": }');
  assert.equal(issue!.path, "$");
  assert.match(issue!.message, /^not valid JSON at line 3, column 8/);
});

Deno.test("readDesiredEdit() names each offending value by its path", () => {
  assert.deepEqual(issues("[1, 2]"), [{
    path: "$",
    message: "expected a JSON object, got an array",
  }]);
  assert.deepEqual(issues("null"), [{ path: "$", message: "expected a JSON object, got null" }]);
  assert.deepEqual(issues('{"config": {"bad key": 1, "ok": {"x.y": 2}}}').map((i) => i.path), [
    '$.config["bad key"]',
    '$.config.ok["x.y"]',
  ]);
  assert.deepEqual(issues('{"$version": 3}').map((i) => i.path), ['$["$version"]']);
  assert.deepEqual(issues('{"a": {"b": null}}'), [{
    path: "$.a.b",
    message: "null is how a patch deletes a key; remove the key instead",
  }]);
  assert.deepEqual(issues('{"list": [{"bad key": 1}]}').map((i) => i.path), [
    '$.list[0]["bad key"]',
  ]);
});

Deno.test("readDesiredEdit() refuses more than 10 levels and more than 32 KiB", () => {
  let deep = "1";
  for (let i = 0; i < 11; i++) deep = `{"k": ${deep}}`;
  assert.match(issues(deep)[0]!.message, /deeper than 10/);
  let ten = "1";
  for (let i = 0; i < 10; i++) ten = `{"k": ${ten}}`;
  assert.ok(readDesiredEdit(ten, {}).ok);
  assert.match(issues(JSON.stringify({ big: "x".repeat(33_000) }))[0]!.message, /32768/);
});

Deno.test("lineAndColumn() counts from 1", () => {
  assert.deepEqual(lineAndColumn("ab\ncd", 0), { line: 1, column: 1 });
  assert.deepEqual(lineAndColumn("ab\ncd", 4), { line: 2, column: 2 });
});
