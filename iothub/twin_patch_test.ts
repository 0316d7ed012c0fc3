import assert from "node:assert/strict";
import {
  checkTwinSize,
  diffProperties,
  mergePatch,
  parseTwinPatch,
  stableJson,
  TwinPatchError,
} from "./twin_patch.ts";

Deno.test("mergePatch() merges objects, deletes on null and ignores $ metadata", () => {
  assert.deepEqual(
    mergePatch({ a: 1, b: { c: 2, d: 3 }, e: 4 }, {
      b: { c: null, f: 5 },
      e: null,
      $version: 3,
      g: [1],
    }),
    { a: 1, b: { d: 3, f: 5 }, g: [1] },
  );
});

Deno.test("diffProperties() gives the patch that turns one document into another", () => {
  const before = { a: 1, b: { c: 2, d: 3 }, gone: true };
  const after = { a: 1, b: { c: 2, d: 4 }, added: "x" };
  const patch = diffProperties(before, after);
  assert.deepEqual(patch, { gone: null, b: { d: 4 }, added: "x" });
  assert.deepEqual(mergePatch(before, patch), after);
});

Deno.test("parseTwinPatch() and checkTwinSize() refuse bad bodies and oversize twins with 400", () => {
  assert.throws(
    () => parseTwinPatch("{not json"),
    (error: unknown) => error instanceof TwinPatchError && error.status === 400,
  );
  assert.throws(() => parseTwinPatch("[1]"), TwinPatchError);
  assert.throws(() => checkTwinSize("reported", { big: "x".repeat(33_000) }), /32768/);
  checkTwinSize("reported", { small: "x" });
});

Deno.test("stableJson() is the same for documents that differ only in key order", () => {
  assert.equal(
    stableJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }),
    stableJson({
      a: { c: null, d: [1, { x: 1, y: 2 }] },
      b: 1,
    }),
  );
  assert.notEqual(stableJson({ a: [1, 2] }), stableJson({ a: [2, 1] }));
});
