/**
 * The functions of twin queries: IoT Hub's type tests (`IS_DEFINED`, `IS_NULL`, `IS_STRING`,
 * `IS_NUMBER`, `IS_BOOL`, `IS_OBJECT`, `IS_ARRAY`, `IS_PRIMITIVE`) and string tests
 * (`STARTSWITH`, `ENDSWITH`). Names match case-insensitively, with or without underscores
 * (`is_defined`, `STARTS_WITH`). A type test answers true or false, never Undefined; a string
 * test given anything but two strings is Undefined.
 *
 * @module
 */
import type { JsonValue, QueryValue } from "./query_ast.ts";

/** A query function. */
export interface QueryFunction {
  /** The documented spelling. */
  readonly name: string;
  readonly arity: number;
  readonly apply: (args: readonly QueryValue[]) => QueryValue;
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isJsonObject(value: QueryValue): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeTest(name: string, test: (value: QueryValue) => boolean): QueryFunction {
  return { name, arity: 1, apply: ([value]) => test(value) };
}

function stringTest(
  name: string,
  test: (text: string, fragment: string) => boolean,
): QueryFunction {
  return {
    name,
    arity: 2,
    apply: ([text, fragment]) =>
      typeof text === "string" && typeof fragment === "string" ? test(text, fragment) : undefined,
  };
}

const LIST: readonly QueryFunction[] = [
  typeTest("IS_DEFINED", (value) => value !== undefined),
  typeTest("IS_NULL", (value) => value === null),
  typeTest("IS_STRING", (value) => typeof value === "string"),
  typeTest("IS_NUMBER", (value) => typeof value === "number"),
  typeTest("IS_BOOL", (value) => typeof value === "boolean"),
  typeTest("IS_OBJECT", isJsonObject),
  typeTest("IS_ARRAY", (value) => Array.isArray(value)),
  typeTest(
    "IS_PRIMITIVE",
    (value) => value === null || ["string", "number", "boolean"].includes(typeof value),
  ),
  stringTest("STARTSWITH", (text, fragment) => text.startsWith(fragment)),
  stringTest("ENDSWITH", (text, fragment) => text.endsWith(fragment)),
];

/** The key a function name is looked up by: upper-case, underscores dropped. */
export function functionKey(name: string): string {
  return name.toUpperCase().replaceAll("_", "");
}

/** Every function by {@linkcode functionKey}. */
export const FUNCTIONS: ReadonlyMap<string, QueryFunction> = new Map(
  LIST.map((fn) => [functionKey(fn.name), fn]),
);
