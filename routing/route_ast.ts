/**
 * The syntax tree of a route. Every node records `at`, the offset of the token errors about it
 * point to (the operator of a binary expression, the name of a call).
 *
 * @module
 */
import type { PathSegment } from "./message_body.ts";
import type { Endpoint } from "./route_endpoint.ts";
import type { RouteSource } from "./route_source.ts";
import type { ArithmeticOperator, ComparisonOperator, Value } from "./route_value.ts";

/** Binary operators, with `<>` already folded into `!=`. */
export type BinaryOperator =
  | ArithmeticOperator
  | ComparisonOperator
  | "||"
  | "AND"
  | "OR"
  | "??";

/** A condition expression. */
export type Expr =
  | { kind: "literal"; value: Value; at: number }
  /** A bare name: an application property. */
  | { kind: "appProperty"; name: string; at: number }
  /**
   * `$name` (`appOverride`: an application property called `$name` wins) or `{$name}` (the
   * system property only).
   */
  | { kind: "systemProperty"; name: string; appOverride: boolean; at: number }
  /** `$body.a.b[0]`; `appOverride` is the application property name that wins, if any. */
  | { kind: "bodyQuery"; path: readonly PathSegment[]; appOverride: string | undefined; at: number }
  | { kind: "unary"; op: "-" | "NOT"; operand: Expr; at: number }
  | { kind: "binary"; op: BinaryOperator; left: Expr; right: Expr; at: number }
  /** A built-in function call; `name` is lower-cased. */
  | { kind: "call"; name: string; args: readonly Expr[]; at: number }
  /** `twin_change_includes(properties.desired.x)`: its argument is a path, not an expression. */
  | { kind: "twinChangeIncludes"; path: readonly PathSegment[]; pathText: string; at: number };

/** A parsed route: `[SELECT *] FROM source [WHERE condition] INTO sink`. */
export interface RouteAst {
  /** The route string as written. */
  text: string;
  source: RouteSource;
  /** Absent when the route has no WHERE clause (it always fires). */
  condition: Expr | undefined;
  endpoint: Endpoint;
}
