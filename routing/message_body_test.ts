import assert from "node:assert/strict";
import { utf16, utf32 } from "./_test_messages.ts";
import {
  decodeBody,
  hasPath,
  isQueryableBody,
  lookupPath,
  NOT_QUERYABLE,
  parseJsonBody,
} from "./message_body.ts";

Deno.test("isQueryableBody() needs application/json and a UTF encoding, in any case", () => {
  assert.ok(isQueryableBody("application/json", "utf-8"));
  assert.ok(isQueryableBody("Application/JSON", "UTF-16"));
  assert.ok(isQueryableBody("application/json", "utf-32"));
  assert.ok(!isQueryableBody("application/json", undefined));
  assert.ok(!isQueryableBody(undefined, "utf-8"));
  assert.ok(!isQueryableBody("application/json", "utf8"));
  assert.ok(!isQueryableBody("text/json", "utf-8"));
});

Deno.test("decodeBody() reads UTF-8, UTF-16 and UTF-32, honouring byte-order marks", async (t) => {
  const text = '{"a":"Zürich ✓ 𝄞"}';
  await t.step("UTF-8, with or without a BOM", () => {
    assert.equal(decodeBody(new TextEncoder().encode(text), "utf-8"), text);
    assert.equal(decodeBody(new TextEncoder().encode("\ufeff" + text), "UTF-8"), text);
    assert.equal(decodeBody(new TextEncoder().encode(text), undefined), text);
  });
  await t.step("UTF-16 little-endian by default, big-endian after a BOM", () => {
    assert.equal(decodeBody(utf16(text), "utf-16"), text);
    assert.equal(decodeBody(utf16(text, false, true), "utf-16"), text);
    assert.equal(decodeBody(utf16(text, true, true), "utf-16"), text);
  });
  await t.step("UTF-32 little-endian by default, big-endian after a BOM", () => {
    assert.equal(decodeBody(utf32(text), "utf-32"), text);
    assert.equal(decodeBody(utf32(text, true, true), "utf-32"), text);
  });
  await t.step("invalid UTF-32 and unknown encodings give undefined", () => {
    assert.equal(decodeBody(new Uint8Array([1, 2, 3]), "utf-32"), undefined);
    assert.equal(decodeBody(new Uint8Array([0, 0, 0x11, 0]), "utf-32"), undefined);
    assert.equal(decodeBody(new Uint8Array([1]), "latin1"), undefined);
  });
});

Deno.test("parseJsonBody() marks text that is not JSON as not queryable", () => {
  assert.deepEqual(parseJsonBody(new TextEncoder().encode('{"a":1}'), "utf-8"), { a: 1 });
  assert.equal(parseJsonBody(new TextEncoder().encode("{a:1}"), "utf-8"), NOT_QUERYABLE);
  assert.equal(parseJsonBody(new Uint8Array(), "utf-8"), NOT_QUERYABLE);
});

Deno.test("lookupPath() yields primitives only: objects and arrays read as Undefined", () => {
  const body = { a: { b: [1, { c: "x" }], n: null, t: true }, "__proto__": { evil: 1 } };
  assert.equal(lookupPath(body, ["a", "b", 0]), 1);
  assert.equal(lookupPath(body, ["a", "b", 1, "c"]), "x");
  assert.equal(lookupPath(body, ["a", "n"]), null);
  assert.equal(lookupPath(body, ["a", "t"]), true);
  assert.equal(lookupPath(body, ["a"]), undefined);
  assert.equal(lookupPath(body, ["a", "b"]), undefined);
  assert.equal(lookupPath(body, ["a", "b", 2]), undefined);
  assert.equal(lookupPath(body, ["a", 0]), undefined);
  assert.equal(lookupPath(body, ["a", "b", "length"]), undefined);
  assert.equal(lookupPath(body, ["constructor", "name"]), undefined);
  assert.equal(lookupPath(body, ["toString"]), undefined);
  assert.equal(lookupPath([1, 2], ["0"]), undefined);
});

Deno.test("hasPath() tells a present value, even null or an object, from a missing one", () => {
  const body = { properties: { desired: { a: null, b: { c: 1 } } } };
  assert.ok(hasPath(body, ["properties", "desired", "a"]));
  assert.ok(hasPath(body, ["properties", "desired", "b"]));
  assert.ok(!hasPath(body, ["properties", "desired", "z"]));
  assert.ok(!hasPath(body, ["properties", "reported", "a"]));
});
