import assert from "node:assert/strict";
import { builtinFunction, parseDotNetNumber } from "./route_functions.ts";
import type { Value } from "./route_value.ts";

function call(name: string, ...args: Value[]): Value {
  const fn = builtinFunction(name);
  assert.ok(fn !== undefined, name);
  return fn.apply(args);
}

Deno.test("parseDotNetNumber() reads what .NET's double.TryParse(NumberStyles.Any) reads", async (t) => {
  const accepted: [string, number][] = [
    ["12", 12],
    [" 12.5 ", 12.5],
    ["-3", -3],
    ["+3", 3],
    ["3-", -3],
    ["(3)", -3],
    ["1,000,000", 1000000],
    [".5", 0.5],
    ["5.", 5],
    ["1e3", 1000],
    ["1.5E-2", 0.015],
    ["Infinity", Infinity],
    ["-infinity", -Infinity],
  ];
  for (const [text, value] of accepted) {
    await t.step(
      `${JSON.stringify(text)} is ${value}`,
      () => assert.equal(parseDotNetNumber(text), value),
    );
  }
  await t.step('"NaN" is NaN', () => assert.ok(Number.isNaN(parseDotNetNumber("NaN"))));
  for (const text of ["", " ", "abc", "1.2.3", "--1", "+1-", "0x10", "1e", "(-1)", "$5", "."]) {
    await t.step(
      `${JSON.stringify(text)} is Undefined`,
      () => assert.equal(parseDotNetNumber(text), undefined),
    );
  }
});

Deno.test("built-ins give Undefined for arguments of the wrong run-time type", () => {
  for (
    const name of [
      "abs",
      "exp",
      "square",
      "ceiling",
      "floor",
      "sign",
      "sqrt",
      "length",
      "lower",
      "upper",
    ]
  ) {
    assert.equal(call(name, undefined), undefined, name);
    assert.equal(call(name, true), undefined, name);
  }
  assert.equal(call("power", 2, "3"), undefined);
  assert.equal(call("index_of", "abc", 1), undefined);
  assert.equal(call("contains", null, "a"), undefined);
  assert.equal(call("concat", "a", null), undefined);
  assert.equal(call("as_number", true), undefined);
});

Deno.test("built-ins follow .NET where JavaScript differs", async (t) => {
  await t.step("sign() of -0 is 0 and of NaN is Undefined", () => {
    assert.ok(Object.is(call("sign", -0), 0));
    assert.equal(call("sign", NaN), undefined);
  });
  await t.step("substring() takes a start and a length, not an end", () => {
    assert.equal(call("substring", "abcdef", 2, 3), "cde");
    assert.equal(call("substring", "abcdef", 6), "");
    assert.equal(call("substring", "abcdef", 7), undefined);
    assert.equal(call("substring", "abcdef", 2, -1), undefined);
    assert.equal(call("substring", "abcdef", 2, undefined), undefined);
  });
  await t.step("the is_* tests say false, not Undefined, for Undefined", () => {
    for (const name of ["is_bool", "is_null", "is_number", "is_string", "is_defined"]) {
      assert.equal(call(name, undefined), false, name);
    }
  });
});

Deno.test("builtinFunction() finds functions in any case", () => {
  assert.equal(builtinFunction("IS_DEFINED")?.name, "is_defined");
  assert.equal(builtinFunction("Starts_With")?.name, "starts_with");
  assert.equal(builtinFunction("is_array"), undefined);
});
