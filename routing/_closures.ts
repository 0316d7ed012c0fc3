// Closure factories of the route compiler: the specialised forms it picks by static type.
import { systemPropertyName } from "../iothub/mod.ts";
import { lookupPath, NOT_QUERYABLE, type PathSegment } from "./message_body.ts";
import type { MessageContext } from "./message_context.ts";
import type { ArithmeticOperator, ComparisonOperator, Value } from "./route_value.ts";

/** A compiled expression: its value for the message of a context. */
export type Evaluator = (context: MessageContext) => Value;

/** The two operands of a binary closure. */
export interface Operands {
  left: Evaluator;
  right: Evaluator;
}

/** `$name` (application property `$name` first when `appOverride`) or `{$name}`. */
export function systemPropertyEvaluator(name: string, appOverride: boolean): Evaluator {
  const canonical = systemPropertyName(name);
  const lowerCanonical = canonical.toLowerCase();
  if (!appOverride) return (context) => context.systemProperty(canonical, lowerCanonical);
  const appName = "$" + name;
  const lowerAppName = appName.toLowerCase();
  return (context) => {
    const app = context.appProperty(appName, lowerAppName);
    return app !== undefined ? app : context.systemProperty(canonical, lowerCanonical);
  };
}

/** A `$body` path, or the application property `appOverride` when the message has it. */
export function bodyQueryEvaluator(
  path: readonly PathSegment[],
  appOverride: string | undefined,
): Evaluator {
  const [key, nextKey] = path;
  const query: (body: unknown) => Value =
    path.length === 2 && typeof key === "string" && typeof nextKey === "string"
      ? (body) => lookupTwoKeys(body, key, nextKey)
      : (body) => lookupPath(body, path);
  const fromBody: Evaluator = (context) => {
    const body = context.queryableBody();
    return body === NOT_QUERYABLE ? undefined : query(body);
  };
  if (appOverride === undefined) return fromBody;
  const lowerOverride = appOverride.toLowerCase();
  return (context) => {
    const app = context.appProperty(appOverride, lowerOverride);
    return app !== undefined ? app : fromBody(context);
  };
}

// The common `$body.a.b` shape, without the generic walk.
function lookupTwoKeys(body: unknown, key: string, nextKey: string): Value {
  if (!isPlainObject(body) || !Object.hasOwn(body, key)) return undefined;
  const inner = body[key];
  if (!isPlainObject(inner) || !Object.hasOwn(inner, nextKey)) return undefined;
  const value = inner[nextKey];
  const type = typeof value;
  return value === null || type === "number" || type === "string" || type === "boolean"
    ? value as Value
    : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Arithmetic on two numbers; Undefined otherwise. */
export function arithmeticEvaluator(op: ArithmeticOperator, { left, right }: Operands): Evaluator {
  switch (op) {
    case "+":
      return (context) => {
        const a = left(context);
        const b = right(context);
        return typeof a === "number" && typeof b === "number" ? a + b : undefined;
      };
    case "-":
      return (context) => {
        const a = left(context);
        const b = right(context);
        return typeof a === "number" && typeof b === "number" ? a - b : undefined;
      };
    case "*":
      return (context) => {
        const a = left(context);
        const b = right(context);
        return typeof a === "number" && typeof b === "number" ? a * b : undefined;
      };
    case "/":
      return (context) => {
        const a = left(context);
        const b = right(context);
        return typeof a === "number" && typeof b === "number" ? a / b : undefined;
      };
    case "%":
      return (context) => {
        const a = left(context);
        const b = right(context);
        return typeof a === "number" && typeof b === "number" ? a % b : undefined;
      };
  }
}

/** `value OP constant`: a type test and one comparison. */
export function constantComparison(
  op: ComparisonOperator,
  { operand, constant }: { operand: Evaluator; constant: number | string },
): Evaluator {
  if (typeof constant === "string") {
    const test = RELATIONS[op];
    return (context) => {
      const value = operand(context);
      return typeof value === "string" ? test(value, constant) : undefined;
    };
  }
  switch (op) {
    case "=":
      return (context) => {
        const value = operand(context);
        return typeof value === "number" ? value === constant : undefined;
      };
    case "!=":
      return (context) => {
        const value = operand(context);
        return typeof value === "number" ? value !== constant : undefined;
      };
    case "<":
      return (context) => {
        const value = operand(context);
        return typeof value === "number" ? value < constant : undefined;
      };
    case "<=":
      return (context) => {
        const value = operand(context);
        return typeof value === "number" ? value <= constant : undefined;
      };
    case ">":
      return (context) => {
        const value = operand(context);
        return typeof value === "number" ? value > constant : undefined;
      };
    case ">=":
      return (context) => {
        const value = operand(context);
        return typeof value === "number" ? value >= constant : undefined;
      };
  }
}

const RELATIONS: Readonly<Record<ComparisonOperator, (a: string, b: string) => boolean>> = {
  "=": (a, b) => a === b,
  "!=": (a, b) => a !== b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};

/** The operator that gives the same result with its operands swapped. */
export function flipComparison(op: ComparisonOperator): ComparisonOperator {
  switch (op) {
    case "<":
      return ">";
    case "<=":
      return ">=";
    case ">":
      return "<";
    case ">=":
      return "<=";
    default:
      return op;
  }
}

/** Both sides statically numbers, or both strings: only Undefined needs a test. */
export function sameTypeComparison(op: ComparisonOperator, { left, right }: Operands): Evaluator {
  return (context) => {
    const a = left(context) as number | undefined;
    if (a === undefined) return undefined;
    const b = right(context) as number | undefined;
    if (b === undefined) return undefined;
    switch (op) {
      case "=":
        return a === b;
      case "!=":
        return a !== b;
      case "<":
        return a < b;
      case "<=":
        return a <= b;
      case ">":
        return a > b;
      case ">=":
        return a >= b;
    }
  };
}
