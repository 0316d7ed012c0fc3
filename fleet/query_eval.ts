/**
 * Evaluates query expressions against twin documents with IoT Hub's semantics: a missing
 * property is Undefined, comparisons are defined between primitives of one type only (objects
 * and arrays compare as Undefined), and a condition holds only when it is exactly `true`. The
 * operators' three-valued logic and comparison rules are the route language's (routing/).
 *
 * @module
 */
import {
  andValues,
  ARITHMETIC,
  type ArithmeticOperator,
  type ComparisonOperator,
  COMPARISONS,
  notValue,
  orValues,
  type Value,
} from "../routing/mod.ts";
import type { JsonValue, QueryExpr, QueryValue } from "./query_ast.ts";
import { functionKey, FUNCTIONS, isJsonObject } from "./query_functions.ts";

/** A twin as queries see it: IoT Hub's JSON document. */
export type TwinDoc = { [key: string]: JsonValue };

/** The value at `segments` of `doc`, or Undefined. */
export function valueAt(doc: TwinDoc, segments: readonly string[]): QueryValue {
  let value: QueryValue = doc;
  for (const segment of segments) {
    if (!isJsonObject(value) || !Object.hasOwn(value, segment)) return undefined;
    value = value[segment];
  }
  return value;
}

/** A query value as the route operators take it: objects and arrays are Undefined. */
function primitive(value: QueryValue): Value {
  return typeof value === "object" && value !== null ? undefined : value;
}

/** Evaluates `expr` on `doc`. */
export function evaluate(expr: QueryExpr, doc: TwinDoc): QueryValue {
  switch (expr.kind) {
    case "literal":
      return expr.value;
    case "array":
      return expr.items.filter((item): item is JsonValue => item !== undefined);
    case "path":
      return valueAt(doc, expr.segments);
    case "unary": {
      const operand = primitive(evaluate(expr.operand, doc));
      if (expr.op === "NOT") return notValue(operand);
      return typeof operand === "number" ? -operand : undefined;
    }
    case "binary":
      return binary(expr, doc);
    case "in":
      return membership(expr.negated, evaluate(expr.operand, doc), expr.items);
    case "call": {
      const fn = FUNCTIONS.get(functionKey(expr.name));
      return fn === undefined ? undefined : fn.apply(expr.args.map((arg) => evaluate(arg, doc)));
    }
  }
}

function binary(expr: Extract<QueryExpr, { kind: "binary" }>, doc: TwinDoc): QueryValue {
  const left = primitive(evaluate(expr.left, doc));
  if (expr.op === "AND") {
    // Short-circuit: false AND anything is false whatever the right side holds.
    return left === false ? false : andValues(left, primitive(evaluate(expr.right, doc)));
  }
  if (expr.op === "OR") {
    return left === true ? true : orValues(left, primitive(evaluate(expr.right, doc)));
  }
  const right = primitive(evaluate(expr.right, doc));
  if (expr.op in COMPARISONS) return COMPARISONS[expr.op as ComparisonOperator](left, right);
  return ARITHMETIC[expr.op as ArithmeticOperator](left, right);
}

/** `IN`: true when the value equals one of the constants; Undefined for Undefined or objects. */
function membership(negated: boolean, value: QueryValue, items: readonly QueryValue[]): QueryValue {
  const operand = primitive(value);
  if (operand === undefined) return undefined;
  const found = items.some((item) => COMPARISONS["="](operand, primitive(item)) === true);
  return negated ? !found : found;
}

/** Whether `condition` is exactly true on `doc` (no condition always holds). */
export function holds(condition: QueryExpr | undefined, doc: TwinDoc): boolean {
  return condition === undefined || evaluate(condition, doc) === true;
}
