/**
 * Static checks of a parsed route, as IoT Edge's compiler makes them: known functions with
 * the right number and types of arguments, and operands of matching types.
 *
 * Types are static in IoT Edge: an application or system property is a string, a `$body`
 * query is dynamic (its type is known per message). So `temperature > 25` is rejected when
 * `temperature` is an application property ("string against number"): it must be written
 * `as_number(temperature) > 25`. Ledge rejects the same routes, with the column, and also a
 * condition that cannot be boolean (`WHERE deviceType`), which IoT Edge accepts but which
 * can never fire.
 *
 * @module
 */
import type { Expr, RouteAst } from "./route_ast.ts";
import { BUILTIN_NAMES, type BuiltinFunction, builtinFunction } from "./route_functions.ts";
import type { StaticType } from "./static_type.ts";

export type { StaticType } from "./static_type.ts";
import { TWIN_CHANGE_NOTIFICATIONS_SOURCE } from "../iothub/mod.ts";
import { normalizeSource } from "./route_source.ts";
import { type ErrorAt, routeErrorAt } from "./route_syntax_error.ts";

/** A route that passed {@link checkRoute}, with what the compiler needs to know. */
export interface CheckedRoute {
  readonly ast: RouteAst;
  /** The static type of every expression node. */
  readonly types: ReadonlyMap<Expr, StaticType>;
  /** The built-in each call node resolved to. */
  readonly functions: ReadonlyMap<Expr, BuiltinFunction>;
}

// IoT Edge's TwinChangeJsonPathValidator prefixes. IoT Edge offers twin_change_includes only
// to twin change sources behind a compiler flag; ledge offers it to routes FROM
// /twinChangeNotifications, where it tells whether the patch contains the path.
const TWIN_PATH_PREFIXES = ["properties.reported.", "properties.desired.", "tags."];

/** Options of {@link checkRoute}. */
export interface CheckRouteOptions {
  /**
   * Reject a condition that cannot be boolean (default true). Tools that inspect the value of
   * an arbitrary expression turn it off; compiled routes always have it on.
   */
  requireBoolean?: boolean;
}

/**
 * Checks function calls and operand types of a parsed route.
 *
 * @throws {RouteSyntaxError} at the column of the offending operator or function.
 */
export function checkRoute(ast: RouteAst, options: CheckRouteOptions = {}): CheckedRoute {
  const checker = new RouteChecker(ast);
  const condition = ast.condition;
  if (condition !== undefined) {
    const type = checker.typeOf(condition);
    if ((options.requireBoolean ?? true) && type !== "bool" && type !== "dynamic") {
      checker.fail(condition.at, {
        found: type,
        expected: "a boolean condition",
        reason: `the condition is ${article(type)}, not a boolean, so the route could never fire`,
      });
    }
  }
  return { ast, types: checker.types, functions: checker.functions };
}

/** Types the expressions of one route, failing at the first that does not check. */
class RouteChecker {
  readonly types = new Map<Expr, StaticType>();
  readonly functions = new Map<Expr, BuiltinFunction>();
  readonly #ast: RouteAst;
  readonly #isTwinRoute: boolean;

  constructor(ast: RouteAst) {
    this.#ast = ast;
    this.#isTwinRoute = ast.source.prefix === normalizeSource(TWIN_CHANGE_NOTIFICATIONS_SOURCE);
  }

  fail(at: number, details: ErrorAt): never {
    throw routeErrorAt(this.#ast.text, at, details);
  }

  typeOf(expr: Expr): StaticType {
    const type = this.#computeType(expr);
    this.types.set(expr, type);
    return type;
  }

  #computeType(expr: Expr): StaticType {
    switch (expr.kind) {
      case "literal":
        return literalType(expr.value);
      case "appProperty":
      case "systemProperty":
        return "string";
      case "bodyQuery":
        return "dynamic";
      case "twinChangeIncludes":
        return this.#twinChangeType(expr);
      case "unary":
        return this.#unaryType(expr);
      case "binary":
        return this.#binaryType(expr);
      case "call":
        return this.#callType(expr);
    }
  }

  #twinChangeType(expr: Extract<Expr, { kind: "twinChangeIncludes" }>): StaticType {
    if (!this.#isTwinRoute) {
      this.fail(expr.at, {
        found: "twin_change_includes",
        expected: "a route FROM /twinChangeNotifications",
        reason: "twin_change_includes is only available in routes FROM /twinChangeNotifications",
      });
    }
    if (!TWIN_PATH_PREFIXES.some((prefix) => expr.pathText.toLowerCase().startsWith(prefix))) {
      this.fail(expr.at, {
        found: expr.pathText,
        expected: TWIN_PATH_PREFIXES.join(", "),
        reason: `twin_change_includes cannot read ${JSON.stringify(expr.pathText)}`,
        hint: `its path must start with ${TWIN_PATH_PREFIXES.join(", ")}`,
      });
    }
    return "bool";
  }

  #unaryType(expr: Extract<Expr, { kind: "unary" }>): StaticType {
    const operand = this.typeOf(expr.operand);
    const accepted: readonly StaticType[] = expr.op === "-" ? ["number"] : ["bool", "null"];
    if (operand !== "dynamic" && !accepted.includes(operand)) {
      this.fail(expr.at, {
        found: expr.op,
        expected: `${article(accepted[0] ?? "bool")} operand`,
        reason: `operator ${expr.op} cannot take ${article(operand)}`,
      });
    }
    return expr.op === "-" ? "number" : "bool";
  }

  #binaryType(expr: Extract<Expr, { kind: "binary" }>): StaticType {
    const left = this.typeOf(expr.left);
    const right = this.typeOf(expr.right);
    const mismatch = (expected: string, hint?: string): never => {
      const details: ErrorAt = {
        found: expr.op,
        expected,
        reason: `operator ${expr.op} cannot combine ${article(left)} with ${article(right)}`,
      };
      if (hint !== undefined) details.hint = hint;
      return this.fail(expr.at, details);
    };
    const both = (type: StaticType) =>
      (left === type || left === "dynamic") && (right === type || right === "dynamic");
    switch (expr.op) {
      case "+":
      case "-":
      case "*":
      case "/":
      case "%":
        if (!both("number")) mismatch("number operands", numberHint(expr, left, right));
        return "number";
      case "||":
        if (!both("string")) mismatch("string operands");
        return "string";
      case "AND":
      case "OR": {
        const logical: readonly StaticType[] = ["bool", "null", "undefined", "dynamic"];
        if (!logical.includes(left) || !logical.includes(right)) mismatch("boolean operands");
        if (expr.op === "AND") return left === "null" || right === "null" ? "null" : "bool";
        return left === "null" && right === "null" ? "null" : "bool";
      }
      case "??":
        if (left !== right && left !== "dynamic" && right !== "dynamic") {
          mismatch("operands of one type");
        }
        if (left === "dynamic" || right === "dynamic") return "dynamic";
        return left;
      default:
        if (left !== right && left !== "dynamic" && right !== "dynamic") {
          mismatch("operands of one type", numberHint(expr, left, right));
        }
        return "bool";
    }
  }

  #callType(expr: Extract<Expr, { kind: "call" }>): StaticType {
    const fn = builtinFunction(expr.name);
    if (fn === undefined) {
      return this.fail(expr.at, {
        found: expr.name,
        expected: `one of ${BUILTIN_NAMES.join(", ")}`,
        reason: `unknown function ${JSON.stringify(expr.name)}`,
        hint: `functions are ${BUILTIN_NAMES.join(", ")}`,
      });
    }
    const count = expr.args.length;
    if (count < fn.minArgs || count > fn.maxArgs) {
      const takes = fn.maxArgs === Infinity
        ? `at least ${fn.minArgs}`
        : fn.minArgs === fn.maxArgs
        ? `${fn.minArgs}`
        : `${fn.minArgs} or ${fn.maxArgs}`;
      const plural = takes === "1" ? "" : "s";
      this.fail(expr.at, {
        found: `${count} argument${count === 1 ? "" : "s"}`,
        expected: `${takes} argument${plural}`,
        reason: `function ${fn.name} takes ${takes} argument${plural}, not ${count}`,
      });
    }
    expr.args.forEach((arg, position) => {
      const type = this.typeOf(arg);
      const accepted = fn.parameters(position);
      if (accepted !== "any" && type !== "dynamic" && !accepted.includes(type)) {
        const wanted = accepted.map(article).join(" or ");
        this.fail(arg.at, {
          found: type,
          expected: wanted,
          reason: `function ${fn.name} takes ${wanted} as argument ${position + 1}, not ${
            article(type)
          }`,
        });
      }
    });
    this.functions.set(expr, fn);
    return fn.returns;
  }
}

function literalType(value: unknown): StaticType {
  if (value === null) return "null";
  switch (typeof value) {
    case "number":
      return "number";
    case "string":
      return "string";
    case "boolean":
      return "bool";
    default:
      return "undefined";
  }
}

function article(type: StaticType): string {
  switch (type) {
    case "number":
      return "a number";
    case "string":
      return "a string";
    case "bool":
      return "a boolean";
    case "dynamic":
      return "a body value";
    default:
      return type;
  }
}

function numberHint(
  expr: Extract<Expr, { kind: "binary" }>,
  left: StaticType,
  right: StaticType,
): string | undefined {
  const mixesStringAndNumber = (left === "string" && right === "number") ||
    (left === "number" && right === "string");
  if (!mixesStringAndNumber) return undefined;
  return minusJoinedHint(expr.left) ?? minusJoinedHint(expr.right) ??
    "properties are strings: convert them with as_number(...)";
}

/**
 * `-$body.n` is one application property name, as IoT Edge's lexer reads it (its ID token takes
 * `-` and `$`, and the longest token wins); the author almost surely meant a negation.
 */
function minusJoinedHint(operand: Expr): string | undefined {
  if (operand.kind !== "appProperty" || !/^-[^-]/.test(operand.name)) return undefined;
  const rest = operand.name.slice(1);
  return `"${operand.name}" is one property name (as in IoT Edge, a "-" joined to a name is part ` +
    `of it): to negate, write "- ${rest}" or "-(${rest})"`;
}
