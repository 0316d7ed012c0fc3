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

/**
 * Compares two values. Undefined on either side gives Undefined, and so does a type mismatch
 * (number against string, say); `null` equals only `null` (IoT Edge `Null.cs`). Strings
 * compare by UTF-16 code unit, as .NET's ordinal comparison does. Booleans order
 * `false < true`, as IoT Edge's `Bool.CompareTo` does (the docs are silent).
 */
export function compareValues(op: ComparisonOperator, left: Value, right: Value): Value {
  if (left === undefined || right === undefined) return undefined;
  if (left === null || right === null) {
    if (left !== right) return undefined;
    return op === "=" || op === "<=" || op === ">=";
  }
  if (typeof left !== typeof right) return undefined;
  switch (op) {
    case "=":
      return left === right;
    case "!=":
      return left !== right;
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case ">":
      return left > right;
    case ">=":
      return left >= right;
  }
}

/** Numeric arithmetic; anything but two numbers gives Undefined. */
export function arithmeticValues(op: ArithmeticOperator, left: Value, right: Value): Value {
  if (typeof left !== "number" || typeof right !== "number") return undefined;
  switch (op) {
    case "+":
      return left + right;
    case "-":
      return left - right;
    case "*":
      return left * right;
    case "/":
      return left / right;
    case "%":
      return left % right;
  }
}

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
