import assert from "node:assert/strict";
import { chunkCreateOptions, CreateOptionsError, readCreateOptions } from "./create_options.ts";

Deno.test("readCreateOptions() joins chunks sorted by key, whatever their order in the object", () => {
  const settings = { createOptions01: '"b"}', image: "x", createOptions: '{"a":' };
  assert.deepEqual(readCreateOptions(settings), { a: "b" });
});

Deno.test("readCreateOptions() reads empty, absent and null as no options", () => {
  assert.deepEqual(readCreateOptions({}), {});
  assert.deepEqual(readCreateOptions({ createOptions: "" }), {});
  assert.deepEqual(readCreateOptions({ createOptions: "null" }), {});
});

Deno.test("readCreateOptions() rejects arrays, scalars and broken JSON naming the key", () => {
  for (const value of ["[1]", "5", "{"]) {
    assert.throws(() => readCreateOptions({ createOptions: value }), (error: unknown) => {
      assert.ok(error instanceof CreateOptionsError);
      assert.equal(error.key, "createOptions");
      return true;
    });
  }
  assert.throws(() => readCreateOptions({ createOptions: [] }), /got an array/);
});

Deno.test("chunkCreateOptions() splits at 512 characters and round-trips", () => {
  const options = { Labels: { long: "x".repeat(1200) } };
  const chunks = chunkCreateOptions(options);
  assert.deepEqual(Object.keys(chunks), ["createOptions", "createOptions01", "createOptions02"]);
  assert.ok(Object.values(chunks).every((chunk) => chunk.length <= 512));
  assert.deepEqual(readCreateOptions(chunks), options);
  assert.deepEqual(chunkCreateOptions({}), { createOptions: "{}" });
});
