import assert from "node:assert/strict";
import { mergeReportedPatches } from "./reported_patch.ts";

Deno.test("mergeReportedPatches() merges nested objects and lets the later value win", () => {
  assert.deepEqual(
    mergeReportedPatches(
      { modules: { a: { status: "running" } }, n: 1 },
      { modules: { b: { status: "stopped" } }, n: 2 },
    ),
    { modules: { a: { status: "running" }, b: { status: "stopped" } }, n: 2 },
  );
});

Deno.test("mergeReportedPatches() keeps a later delete", () => {
  assert.deepEqual(mergeReportedPatches({ a: { x: 1 } }, { a: null }), { a: null });
});

Deno.test("mergeReportedPatches() refuses to merge a delete followed by an object", () => {
  assert.equal(mergeReportedPatches({ a: null }, { a: { x: 1 } }), undefined);
  assert.equal(mergeReportedPatches({ m: { a: null } }, { m: { a: { x: 1 } } }), undefined);
});

Deno.test("mergeReportedPatches() replaces arrays and scalars whole", () => {
  assert.deepEqual(mergeReportedPatches({ a: [1, 2], b: { c: 1 } }, { a: [3], b: 5 }), {
    a: [3],
    b: 5,
  });
});
