/**
 * Compiles a route once into plain closures: the condition becomes a function of a message,
 * specialised by the checker's static types (a comparison of a body value with a number
 * constant is a `typeof` test and one `>`), with constant sub-expressions folded. Nothing is
 * parsed or walked per message.
 *
 * @module
 */
import type { Message } from "../iothub/mod.ts";
import { hasPath, NOT_QUERYABLE } from "./message_body.ts";
import {
  arithmeticEvaluator,
  bodyQueryEvaluator,
  constantComparison,
  type Evaluator,
  flipComparison,
  sameTypeComparison,
  systemPropertyEvaluator,
} from "./_closures.ts";
import { MessageContext } from "./message_context.ts";
import type { Expr, RouteAst } from "./route_ast.ts";
import { type CheckedRoute, checkRoute, type StaticType } from "./route_checker.ts";
import { type Endpoint, endpointKey } from "./route_endpoint.ts";
import { parseRoute } from "./route_parser.ts";
import { normalizeSource, type RouteSource, sourceMatches } from "./route_source.ts";
import {
  andValues,
  type ComparisonOperator,
  COMPARISONS,
  notValue,
  orValues,
  type Value,
} from "./route_value.ts";

/** A compiled route condition: true when the route fires for the message. */
export type RouteCondition = (message: Message, context?: MessageContext) => boolean;

/** A route compiled to functions, with its source and sink. */
export interface CompiledRoute {
  /** The route string as written. */
  readonly text: string;
  readonly source: RouteSource;
  readonly endpoint: Endpoint;
  /** {@link endpointKey} of {@link endpoint}. */
  readonly endpointKey: string;
  /**
   * Whether the condition holds (sources are not considered). Pass a {@link MessageContext}
   * built for the same message to evaluate several routes while parsing the body once.
   */
  readonly condition: RouteCondition;
  /** Whether the route accepts messages from `source` (e.g. `messageSource(message)`). */
  readonly matchesSource: (source: string) => boolean;
  /** The checked tree, for tools such as the reference interpreter. */
  readonly checked: CheckedRoute;
}

/**
 * Parses, checks and compiles a route string.
 *
 * @throws {RouteSyntaxError} with the line and column of the first error.
 * @example
 * ```ts
 * const route = compileRoute(
 *   "FROM /messages/modules/sensor/outputs/temp WHERE $body.machine.temperature > 25 " +
 *     'INTO BrokeredEndpoint("/modules/filter/inputs/in1")',
 * );
 * const message = {
 *   body: new TextEncoder().encode('{"machine":{"temperature":30}}'),
 *   appProperties: {},
 *   systemProperties: { contentType: "application/json", contentEncoding: "utf-8" },
 * };
 * route.condition(message); // true: the machine is hotter than 25
 * ```
 */
export function compileRoute(text: string): CompiledRoute {
  return compileCheckedRoute(checkRoute(parseRoute(text)));
}

/** Compiles a route that already passed `checkRoute`. */
export function compileCheckedRoute(checked: CheckedRoute): CompiledRoute {
  const ast: RouteAst = checked.ast;
  const evaluate = compileCondition(checked);
  return Object.freeze({
    text: ast.text,
    source: ast.source,
    endpoint: ast.endpoint,
    endpointKey: endpointKey(ast.endpoint),
    condition: (message: Message, context?: MessageContext) =>
      evaluate(context ?? new MessageContext(message)),
    matchesSource: (source: string) => sourceMatches(ast.source, normalizeSource(source)),
    checked,
  });
}

type ContextEvaluator = (context: MessageContext) => boolean;

/**
 * The raw value of a checked route's condition (`true` without one), before the exact-`true`
 * test; for tools that compare it with the reference interpreter.
 */
export function compileConditionValue(checked: CheckedRoute): (context: MessageContext) => Value {
  const condition = checked.ast.condition;
  return condition === undefined ? () => true : new ClosureBuilder(checked).build(condition);
}

function compileCondition(checked: CheckedRoute): ContextEvaluator {
  const condition = checked.ast.condition;
  return condition === undefined
    ? alwaysTrue
    : truthTest(new ClosureBuilder(checked).build(condition));
}

function alwaysTrue(): boolean {
  return true;
}

function truthTest(evaluator: Evaluator): ContextEvaluator {
  return (context) => evaluator(context) === true;
}

const CONSTANT_CONTEXT = new MessageContext({
  body: new Uint8Array(),
  appProperties: {},
  systemProperties: {},
});

class ClosureBuilder {
  readonly #checked: CheckedRoute;

  constructor(checked: CheckedRoute) {
    this.#checked = checked;
  }

  build(expr: Expr): Evaluator {
    const evaluator = this.#build(expr);
    if (expr.kind === "literal" || !isConstant(expr)) return evaluator;
    const value = evaluator(CONSTANT_CONTEXT);
    return () => value;
  }

  #type(expr: Expr): StaticType {
    return this.#checked.types.get(expr) ?? "dynamic";
  }

  // A boolean that is never null at run time: `$body.x AND true` is typed boolean, yet it is
  // null when `$body.x` is, so the cheap three-valued forms must not be used on it.
  #isStrictBool(expr: Expr): boolean {
    if (this.#type(expr) !== "bool") return false;
    if (expr.kind !== "binary") return true;
    if (expr.op !== "AND" && expr.op !== "OR" && expr.op !== "??") return true;
    return this.#isStrictBool(expr.left) && this.#isStrictBool(expr.right);
  }

  #build(expr: Expr): Evaluator {
    switch (expr.kind) {
      case "literal": {
        const value = expr.value;
        return () => value;
      }
      case "appProperty": {
        const { name } = expr;
        const lowerName = name.toLowerCase();
        return (context) => context.appProperty(name, lowerName);
      }
      case "systemProperty":
        return systemPropertyEvaluator(expr.name, expr.appOverride);
      case "bodyQuery":
        return bodyQueryEvaluator(expr.path, expr.appOverride);
      case "twinChangeIncludes": {
        const { path } = expr;
        return (context) => {
          const body = context.twinBody();
          return body === NOT_QUERYABLE ? undefined : hasPath(body, path);
        };
      }
      case "unary": {
        const operand = this.build(expr.operand);
        if (expr.op === "-") {
          return (context) => {
            const value = operand(context);
            return typeof value === "number" ? -value : undefined;
          };
        }
        if (this.#isStrictBool(expr.operand)) {
          return (context) => {
            const value = operand(context);
            return value === true ? false : value === false ? true : undefined;
          };
        }
        return (context) => notValue(operand(context));
      }
      case "binary":
        return this.#binary(expr);
      case "call":
        return this.#call(expr);
    }
  }

  #binary(expr: Extract<Expr, { kind: "binary" }>): Evaluator {
    const left = this.build(expr.left);
    const right = this.build(expr.right);
    switch (expr.op) {
      case "+":
      case "-":
      case "*":
      case "/":
      case "%":
        return arithmeticEvaluator(expr.op, { left, right });
      case "||":
        return (context) => {
          const a = left(context);
          const b = right(context);
          return typeof a === "string" && typeof b === "string" ? a + b : undefined;
        };
      case "??":
        return (context) => {
          const value = left(context);
          return value !== undefined ? value : right(context);
        };
      case "AND":
        return this.#and(expr, left, right);
      case "OR":
        return this.#or(expr, left, right);
      default:
        return this.#comparison(expr, expr.op, left, right);
    }
  }

  #and(expr: Extract<Expr, { kind: "binary" }>, left: Evaluator, right: Evaluator): Evaluator {
    if (this.#isStrictBool(expr.left) && this.#isStrictBool(expr.right)) {
      return (context) => {
        const a = left(context);
        if (a === false) return false;
        const b = right(context);
        if (b === false) return false;
        return a === true && b === true ? true : undefined;
      };
    }
    // `false AND null` is null, so only `null` may cut the evaluation short here.
    return (context) => {
      const a = left(context);
      return a === null ? null : andValues(a, right(context));
    };
  }

  #or(expr: Extract<Expr, { kind: "binary" }>, left: Evaluator, right: Evaluator): Evaluator {
    if (this.#isStrictBool(expr.left) && this.#isStrictBool(expr.right)) {
      return (context) => {
        const a = left(context);
        if (a === true) return true;
        const b = right(context);
        if (b === true) return true;
        return a === false && b === false ? false : undefined;
      };
    }
    return (context) => {
      const a = left(context);
      return a === true ? true : orValues(a, right(context));
    };
  }

  #comparison(
    expr: Extract<Expr, { kind: "binary" }>,
    op: ComparisonOperator,
    left: Evaluator,
    right: Evaluator,
  ): Evaluator {
    const constantRight = constantOf(expr.right, right);
    if (typeof constantRight === "number" || typeof constantRight === "string") {
      return constantComparison(op, { operand: left, constant: constantRight });
    }
    const constantLeft = constantOf(expr.left, left);
    if (typeof constantLeft === "number" || typeof constantLeft === "string") {
      return constantComparison(flipComparison(op), { operand: right, constant: constantLeft });
    }
    const leftType = this.#type(expr.left);
    if ((leftType === "number" || leftType === "string") && leftType === this.#type(expr.right)) {
      return sameTypeComparison(op, { left, right });
    }
    const compare = COMPARISONS[op];
    return (context) => compare(left(context), right(context));
  }

  #call(expr: Extract<Expr, { kind: "call" }>): Evaluator {
    const fn = this.#checked.functions.get(expr);
    if (fn === undefined) {
      throw new TypeError(`Cannot compile route: unchecked call to ${expr.name}`);
    }
    const args = expr.args.map((arg) => this.build(arg));
    const { apply } = fn;
    const [first, second] = args;
    if (args.length === 1 && first !== undefined) {
      const values: Value[] = [undefined];
      return (context) => {
        values[0] = first(context);
        return apply(values);
      };
    }
    if (args.length === 2 && first !== undefined && second !== undefined) {
      const values: Value[] = [undefined, undefined];
      return (context) => {
        values[0] = first(context);
        values[1] = second(context);
        return apply(values);
      };
    }
    return (context) => apply(args.map((arg) => arg(context)));
  }
}

function isConstant(expr: Expr): boolean {
  switch (expr.kind) {
    case "literal":
      return true;
    case "unary":
      return isConstant(expr.operand);
    case "binary":
      return isConstant(expr.left) && isConstant(expr.right);
    case "call":
      return expr.args.every(isConstant);
    default:
      return false;
  }
}

function constantOf(expr: Expr, evaluator: Evaluator): Value | typeof NOT_CONSTANT {
  return isConstant(expr) ? evaluator(CONSTANT_CONTEXT) : NOT_CONSTANT;
}

const NOT_CONSTANT: unique symbol = Symbol("not constant");
