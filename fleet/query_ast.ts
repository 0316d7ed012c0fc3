/**
 * The syntax tree of an IoT Hub twin query (`SELECT ... FROM devices ... WHERE ... GROUP BY ...`) and of
 * a bare condition (a deployment's target condition). Every node records `at`, the offset of
 * the token an error about it points to.
 *
 * @module
 */
import type { ArithmeticOperator, ComparisonOperator } from "../routing/mod.ts";

/** A JSON value, as twins hold them. */
export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [key: string]: JsonValue;
};

/** What an expression evaluates to: a JSON value, or Undefined (a missing property). */
export type QueryValue = JsonValue | undefined;

/** A twin path such as `tags.location.region` (`[[escaped]]` segments unwrapped). */
export interface PathExpr {
  kind: "path";
  segments: readonly string[];
  /** The path as written. */
  text: string;
  at: number;
}

/** Binary operators, with `<>` folded into `!=`. */
export type QueryBinaryOperator = ArithmeticOperator | ComparisonOperator | "AND" | "OR";

/** An expression of a WHERE clause or target condition. */
export type QueryExpr =
  | { kind: "literal"; value: QueryValue; at: number }
  /** An array constant `['a', 'b']` (IoT Hub allows constants only). */
  | { kind: "array"; items: readonly QueryValue[]; at: number }
  | PathExpr
  | { kind: "unary"; op: "-" | "NOT"; operand: QueryExpr; at: number }
  | { kind: "binary"; op: QueryBinaryOperator; left: QueryExpr; right: QueryExpr; at: number }
  /** `x IN [...]`, or `x NIN [...]` when `negated`. */
  | { kind: "in"; negated: boolean; operand: QueryExpr; items: readonly QueryValue[]; at: number }
  /** A function call; `name` is upper-case without underscores (`STARTSWITH`). */
  | { kind: "call"; name: string; args: readonly QueryExpr[]; at: number };

/** The aggregate functions of a SELECT list. */
export type AggregateName = "COUNT" | "AVG" | "SUM" | "MIN" | "MAX";

/** One element of a SELECT list; `name` is the key it has in each result row. */
export type Projection =
  | { kind: "path"; path: PathExpr; name: string; at: number }
  | { kind: "aggregate"; fn: AggregateName; path: PathExpr | undefined; name: string; at: number };

/** The collections a query reads. */
export type QueryCollection = "devices" | "devices.modules";

/** A parsed query. */
export interface QueryAst {
  /** The query as written. */
  text: string;
  /** `SELECT TOP n`: at most this many rows in all. */
  top: number | undefined;
  /** `*`, or the projections in order. */
  select: "*" | readonly Projection[];
  from: QueryCollection;
  where: QueryExpr | undefined;
  groupBy: readonly PathExpr[];
}
