/**
 * Runtime values of route conditions and the generic operators on them, with IoT Hub's
 * semantics: JavaScript `undefined` is IoT Hub's Undefined (a missing property, a type
 * mismatch, a body that is not queryable), and a route fires only on an exact `true`.
 *
 * These generic versions serve values whose type is only known at run time (body queries);
 * the compiler inlines cheaper forms when the checker knows the types.
 *
 * @module
 */

/** A condition value. Body queries never yield objects or arrays: those read as Undefined. */
export type Value = number | string | boolean | null | undefined;

/** Comparison operators after normalising `<>` to `!=`. */
export type ComparisonOperator = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** Arithmetic operators. */
export type ArithmeticOperator = "+" | "-" | "*" | "/" | "%";

/** A generic binary operation on run-time values. */
export type BinaryOperation = (left: Value, right: Value) => Value;

type Primitive = number | string | boolean;

// Undefined on either side gives Undefined, and so does a type mismatch (number against
// string, say); `null` equals only `null` (IoT Edge `Null.cs`: null <= null, not null < null).
function comparison(
  test: (left: Primitive, right: Primitive) => boolean,
  nullsMatch: boolean,
): BinaryOperation {
  return (left, right) => {
    if (left === undefined || right === undefined) return undefined;
    if (left === null || right === null) return left === right ? nullsMatch : undefined;
    if (typeof left !== typeof right) return undefined;
    return test(left, right);
  };
}

/**
 * Comparisons by operator. Strings compare by UTF-16 code unit, as .NET's ordinal comparison
 * does; booleans order `false < true`, as IoT Edge's `Bool.CompareTo` does (the docs are
 * silent).
 */
export const COMPARISONS: Readonly<Record<ComparisonOperator, BinaryOperation>> = {
  "=": comparison((left, right) => left === right, true),
  "!=": comparison((left, right) => left !== right, false),
  "<": comparison((left, right) => left < right, false),
  "<=": comparison((left, right) => left <= right, true),
  ">": comparison((left, right) => left > right, false),
  ">=": comparison((left, right) => left >= right, true),
};

function arithmetic(operation: (left: number, right: number) => number): BinaryOperation {
  return (left, right) =>
    typeof left === "number" && typeof right === "number" ? operation(left, right) : undefined;
}

/** Arithmetic by operator; anything but two numbers gives Undefined. */
export const ARITHMETIC: Readonly<Record<ArithmeticOperator, BinaryOperation>> = {
  "+": arithmetic((left, right) => left + right),
  "-": arithmetic((left, right) => left - right),
  "*": arithmetic((left, right) => left * right),
  "/": arithmetic((left, right) => left / right),
  "%": arithmetic((left, right) => left % right),
};

/** `||`: string concatenation; anything but two strings gives Undefined. */
export function concatValues(left: Value, right: Value): Value {
  return typeof left === "string" && typeof right === "string" ? left + right : undefined;
}

/** Unary minus; anything but a number gives Undefined. */
export function negateValue(operand: Value): Value {
  return typeof operand === "number" ? -operand : undefined;
}

// Logic follows IoT Edge's Bool and Null types: Kleene three-valued logic over
// true/false/Undefined, where a non-boolean operand counts as Undefined, and `null` is
// absorbing for AND, neutral for OR, and `NOT null` is true.

/** Three-valued AND, with `null` absorbing (`null AND x` is `null`). */
export function andValues(left: Value, right: Value): Value {
  if (left === null || right === null) return null;
  if (left === false || right === false) return false;
  return left === true && right === true ? true : undefined;
}

/** Three-valued OR, with `null` neutral (`null OR x` is `x` as a boolean). */
export function orValues(left: Value, right: Value): Value {
  if (left === null && right === null) return null;
  if (left === true || right === true) return true;
  const leftFalse = left === false || left === null;
  const rightFalse = right === false || right === null;
  return leftFalse && rightFalse ? false : undefined;
}

/** Three-valued NOT; `NOT null` is true, any non-boolean is Undefined. */
export function notValue(operand: Value): Value {
  if (operand === true) return false;
  if (operand === false || operand === null) return true;
  return undefined;
}

/** `??`: the left value unless it is Undefined. */
export function coalesceValues(left: Value, right: Value): Value {
  return left === undefined ? right : left;
}
