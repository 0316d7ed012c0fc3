import assert from "node:assert/strict";
import {
  chunkCreateOptions,
  CreateOptionsError,
  readCreateOptions as readTree,
} from "./create_options.ts";
import { JsonObject, toPlain } from "./json_scan.ts";

function readCreateOptions(settings: Record<string, unknown>): unknown {
  return toPlain(readTree(settings));
}

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

Deno.test("readCreateOptions() keeps every member of a string, duplicates included", () => {
  const tree = readTree({ createOptions: '{"a":1,"A":2,"a":3}' });
  assert.ok(tree instanceof JsonObject);
  assert.deepEqual(tree.members, [["a", 1], ["A", 2], ["a", 3]]);
});

Deno.test("readCreateOptions() refuses a settings key spelled like createOptions in another case", () => {
  assert.throws(
    () => readTree({ createOptions: "{}", CreateOptions01: '{"HostConfig":{}}' }),
    (error: unknown) => error instanceof CreateOptionsError && error.key === "CreateOptions01",
  );
});
