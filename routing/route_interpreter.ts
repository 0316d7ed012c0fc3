/**
 * The slow reference interpreter: walks a checked route's tree for every message, using only
 * the generic operators of `route_value.ts`. It defines what the compiled functions must
 * compute; the differential test and the benchmark compare the two.
 *
 * @module
 */
import { type Message, systemPropertyName } from "../iothub/mod.ts";
import { hasPath, lookupPath, NOT_QUERYABLE } from "./message_body.ts";
import { MessageContext } from "./message_context.ts";
import type { BinaryOperator, Expr } from "./route_ast.ts";
import type { CheckedRoute } from "./route_checker.ts";
import {
  andValues,
  ARITHMETIC,
  coalesceValues,
  COMPARISONS,
  concatValues,
  negateValue,
  notValue,
  orValues,
  type Value,
} from "./route_value.ts";

/** The value of a route's condition for one message (`true` when it has none). */
export function interpretCondition(route: CheckedRoute, context: MessageContext): Value {
  const condition = route.ast.condition;
  return condition === undefined ? true : evaluate(route, condition, context);
}

/** Whether a route's condition holds for a message; its source is not considered. */
export function interpretRoute(
  route: CheckedRoute,
  message: Message,
  context?: MessageContext,
): boolean {
  return interpretCondition(route, context ?? new MessageContext(message)) === true;
}

function evaluate(route: CheckedRoute, expr: Expr, context: MessageContext): Value {
  switch (expr.kind) {
    case "literal":
      return expr.value;
    case "appProperty":
      return context.appProperty(expr.name, expr.name.toLowerCase());
    case "systemProperty": {
      if (expr.appOverride) {
        const app = context.appProperty("$" + expr.name, "$" + expr.name.toLowerCase());
        if (app !== undefined) return app;
      }
      const name = systemPropertyName(expr.name);
      return context.systemProperty(name, name.toLowerCase());
    }
    case "bodyQuery": {
      if (expr.appOverride !== undefined) {
        const app = context.appProperty(expr.appOverride, expr.appOverride.toLowerCase());
        if (app !== undefined) return app;
      }
      const body = context.queryableBody();
      return body === NOT_QUERYABLE ? undefined : lookupPath(body, expr.path);
    }
    case "twinChangeIncludes": {
      const body = context.twinBody();
      return body === NOT_QUERYABLE ? undefined : hasPath(body, expr.path);
    }
    case "unary": {
      const operand = evaluate(route, expr.operand, context);
      return expr.op === "-" ? negateValue(operand) : notValue(operand);
    }
    case "binary":
      return binaryValue(
        expr.op,
        evaluate(route, expr.left, context),
        evaluate(route, expr.right, context),
      );
    case "call": {
      const fn = route.functions.get(expr);
      if (fn === undefined) {
        throw new TypeError(`Cannot interpret route: unchecked call to ${expr.name}`);
      }
      return fn.apply(expr.args.map((arg) => evaluate(route, arg, context)));
    }
  }
}

function binaryValue(op: BinaryOperator, left: Value, right: Value): Value {
  switch (op) {
    case "AND":
      return andValues(left, right);
    case "OR":
      return orValues(left, right);
    case "??":
      return coalesceValues(left, right);
    case "||":
      return concatValues(left, right);
    case "+":
    case "-":
    case "*":
    case "/":
    case "%":
      return ARITHMETIC[op](left, right);
    default:
      return COMPARISONS[op](left, right);
  }
}
