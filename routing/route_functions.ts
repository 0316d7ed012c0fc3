/**
 * The built-in functions of route conditions (IoT Edge's `ConditionVisitor` list), with their
 * static signatures and run-time behaviour. Any argument of the wrong run-time type, and any
 * Undefined argument, gives Undefined, except in the `is_*` type tests, which answer false
 * for Undefined (the docs are silent; IoT Edge's `is_null` answers Undefined there and, for
 * body values, has its test inverted, which ledge does not copy).
 *
 * IoT Hub's `is_array`, `is_object` and `is_primitive` are not IoT Edge built-ins and are
 * rejected as unknown functions. `twin_change_includes` is parsed by the route parser, as its
 * argument is a path, not an expression.
 *
 * @module
 */
import type { StaticType } from "./static_type.ts";
import type { Value } from "./route_value.ts";

/** A built-in function. */
export interface BuiltinFunction {
  /** Lower-case name; calls match it case-insensitively. */
  readonly name: string;
  readonly minArgs: number;
  /** `Infinity` for `concat`. */
  readonly maxArgs: number;
  /** Static types accepted at each position (a body query is accepted anywhere), or "any". */
  readonly parameters: (position: number) => readonly StaticType[] | "any";
  readonly returns: StaticType;
  /** Applies the function to evaluated arguments. */
  readonly apply: (args: readonly Value[]) => Value;
}

const NUMBER: readonly StaticType[] = ["number"];
const STRING: readonly StaticType[] = ["string"];

function numeric(name: string, fn: (x: number) => number): BuiltinFunction {
  return {
    name,
    minArgs: 1,
    maxArgs: 1,
    parameters: () => NUMBER,
    returns: "number",
    apply: ([x]) => typeof x === "number" ? fn(x) : undefined,
  };
}

function typeTest(name: string, test: (x: Value) => boolean): BuiltinFunction {
  return {
    name,
    minArgs: 1,
    maxArgs: 1,
    parameters: () => "any",
    returns: "bool",
    apply: ([x]) => test(x),
  };
}

function stringTest(
  name: string,
  test: (text: string, fragment: string) => boolean,
): BuiltinFunction {
  return {
    name,
    minArgs: 2,
    maxArgs: 2,
    parameters: () => STRING,
    returns: "bool",
    apply: ([text, fragment]) =>
      typeof text === "string" && typeof fragment === "string" ? test(text, fragment) : undefined,
  };
}

function stringMap(
  name: string,
  fn: (text: string) => Value,
  returns: StaticType,
): BuiltinFunction {
  return {
    name,
    minArgs: 1,
    maxArgs: 1,
    parameters: () => STRING,
    returns,
    apply: ([text]) => typeof text === "string" ? fn(text) : undefined,
  };
}

const BUILTINS: readonly BuiltinFunction[] = [
  numeric("abs", Math.abs),
  numeric("exp", Math.exp),
  {
    name: "power",
    minArgs: 2,
    maxArgs: 2,
    parameters: () => NUMBER,
    returns: "number",
    apply: ([x, y]) => typeof x === "number" && typeof y === "number" ? Math.pow(x, y) : undefined,
  },
  numeric("square", (x) => x * x),
  numeric("ceiling", Math.ceil),
  numeric("floor", Math.floor),
  // .NET's Math.Sign: -1, 0 or 1 (never -0); NaN has no sign, so it is Undefined.
  {
    ...numeric("sign", Math.sign),
    apply: ([x]) =>
      typeof x !== "number" || Number.isNaN(x) ? undefined : x > 0 ? 1 : x < 0 ? -1 : 0,
  },
  numeric("sqrt", Math.sqrt),
  {
    name: "as_number",
    minArgs: 1,
    maxArgs: 1,
    parameters: () => ["string", "number"],
    returns: "number",
    apply: ([x]) =>
      typeof x === "number" ? x : typeof x === "string" ? parseDotNetNumber(x) : undefined,
  },
  typeTest("is_bool", (x) => typeof x === "boolean"),
  typeTest("is_defined", (x) => x !== undefined),
  typeTest("is_null", (x) => x === null),
  typeTest("is_number", (x) => typeof x === "number"),
  typeTest("is_string", (x) => typeof x === "string"),
  {
    name: "concat",
    minArgs: 2,
    maxArgs: Infinity,
    parameters: () => STRING,
    returns: "string",
    apply: (args) => args.every((x) => typeof x === "string") ? args.join("") : undefined,
  },
  stringMap("length", (text) => text.length, "number"),
  stringMap("lower", (text) => text.toLowerCase(), "string"),
  stringMap("upper", (text) => text.toUpperCase(), "string"),
  {
    name: "substring",
    minArgs: 2,
    maxArgs: 3,
    parameters: (position) => position === 0 ? STRING : NUMBER,
    returns: "string",
    apply: substring,
  },
  {
    name: "index_of",
    minArgs: 2,
    maxArgs: 2,
    parameters: () => STRING,
    returns: "number",
    apply: ([text, fragment]) =>
      typeof text === "string" && typeof fragment === "string" ? text.indexOf(fragment) : undefined,
  },
  stringTest("starts_with", (text, fragment) => text.startsWith(fragment)),
  stringTest("ends_with", (text, fragment) => text.endsWith(fragment)),
  stringTest("contains", (text, fragment) => text.includes(fragment)),
];

const BY_NAME: ReadonlyMap<string, BuiltinFunction> = new Map(BUILTINS.map((fn) => [fn.name, fn]));

/** The function called `name` (any case), if it is a built-in. */
export function builtinFunction(name: string): BuiltinFunction | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Names of all built-in functions, for error messages. */
export const BUILTIN_NAMES: readonly string[] = [
  ...BUILTINS.map((fn) => fn.name),
  "twin_change_includes",
];

// substring(text, start[, length]): zero-based start, as in .NET's String.Substring. Positions
// are truncated to integers; one outside the string gives Undefined where .NET would throw.
function substring(args: readonly Value[]): Value {
  const [text, start, length] = args;
  if (typeof text !== "string" || typeof start !== "number" || !Number.isFinite(start)) {
    return undefined;
  }
  const from = Math.trunc(start);
  if (from < 0 || from > text.length) return undefined;
  if (args.length < 3) return text.slice(from);
  if (typeof length !== "number" || !Number.isFinite(length)) return undefined;
  const count = Math.trunc(length);
  if (count < 0 || from + count > text.length) return undefined;
  return text.slice(from, from + count);
}

const DOT_NET_NUMBER = /^([+-]?)(\d[\d,]*)?(?:\.(\d*))?(?:[eE]([+-]?\d+))?([+-]?)$/;
const DOT_NET_SYMBOL = /^([+-]?)(infinity|\u221e|nan)$/i;

/**
 * Parses a string as .NET's `double.TryParse(s, NumberStyles.Any, InvariantCulture)` does
 * (which IoT Edge's `as_number` uses): surrounding white space, a leading or trailing sign,
 * parentheses for a negative number, `,` group separators, a `.` fraction, an exponent, and
 * the symbols Infinity and NaN. Currency symbols are not accepted. Undefined when invalid.
 */
export function parseDotNetNumber(input: string): number | undefined {
  let text = input.trim();
  let negative = false;
  if (text.startsWith("(") && text.endsWith(")")) {
    negative = true;
    text = text.slice(1, -1);
  }
  const symbol = DOT_NET_SYMBOL.exec(text);
  if (symbol !== null) {
    const name = (symbol[2] ?? "").toLowerCase();
    if (name === "nan") return negative || symbol[1] !== "" ? undefined : NaN;
    return (symbol[1] === "-") !== negative ? -Infinity : Infinity;
  }
  const match = DOT_NET_NUMBER.exec(text);
  if (match === null) return undefined;
  const [, leadingSign = "", integer = "", fraction, exponent = "0", trailingSign = ""] = match;
  if (integer === "" && (fraction === undefined || fraction === "")) return undefined;
  if (leadingSign !== "" && trailingSign !== "") return undefined;
  if (negative && (leadingSign !== "" || trailingSign !== "")) return undefined;
  const magnitude = Number(`${integer.replaceAll(",", "") || "0"}.${fraction || "0"}e${exponent}`);
  return negative || leadingSign === "-" || trailingSign === "-" ? -magnitude : magnitude;
}
