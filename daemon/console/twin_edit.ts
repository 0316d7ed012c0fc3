/**
 * Editing a twin's desired properties as a whole document: the text is parsed and checked
 * against IoT Hub's rules (each problem named by its JSON path), and the change is sent as the
 * merge patch that turns the current document into the edited one.
 */
import { jsonErrorPlace } from "./json_error.ts";
import { diffProperties, MAX_TWIN_SIDE_BYTES, type TwinProperties } from "../../iothub/mod.ts";

/** One problem of an edited document. */
export interface TwinEditIssue {
  /** JSON path of the offending value (`$` is the document), e.g. `$.config["a b"]`. */
  path: string;
  message: string;
}

/** The outcome of reading an edited desired document. */
export type TwinEdit =
  | { ok: true; desired: TwinProperties; patch: TwinProperties }
  | { ok: false; issues: TwinEditIssue[] };

/** Depth IoT Hub allows in desired properties (the root's children are level 1). */
export const MAX_TWIN_DEPTH = 10;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function child(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Line and column of a character offset in `text`, both from 1. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

function parseIssue(text: string, error: unknown): TwinEditIssue {
  const place = jsonErrorPlace(text);
  if (place) {
    const { line, column } = lineAndColumn(text, place.offset);
    const found = place.offset < text.length ? JSON.stringify(text[place.offset]) : "the end";
    return {
      path: "$",
      message:
        `not valid JSON at line ${line}, column ${column}: expected ${place.expected}, found ${found}`,
    };
  }
  return {
    path: "$",
    message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
  };
}

function hasControlCharacter(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

function checkValue(value: unknown, path: string, depth: number, issues: TwinEditIssue[]): void {
  if (value === null) {
    issues.push({ path, message: "null is how a patch deletes a key; remove the key instead" });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (isObject(item) || Array.isArray(item)) {
        checkValue(item, `${path}[${i}]`, depth + 1, issues);
      }
    });
    return;
  }
  if (!isObject(value)) return;
  if (depth >= MAX_TWIN_DEPTH && Object.keys(value).length > 0) {
    issues.push({ path, message: `nested deeper than ${MAX_TWIN_DEPTH} levels` });
    return;
  }
  for (const [key, inner] of Object.entries(value)) {
    const at = child(path, key);
    if (key === "") issues.push({ path: at, message: "empty key" });
    else if (/[.$ ]/.test(key) || hasControlCharacter(key)) {
      issues.push({
        path: at,
        message: "keys may not contain '.', '$', spaces or control characters",
      });
    } else if (new TextEncoder().encode(key).length > 1024) {
      issues.push({ path: at, message: "key longer than 1 KiB" });
    }
    checkValue(inner, at, depth + 1, issues);
  }
}

/**
 * Reads `text` as the new desired document of a twin whose desired side is `current`.
 *
 * @example
 * ```ts
 * readDesiredEdit('{"interval": 5}', { interval: 1, old: true });
 * // { ok: true, desired: { interval: 5 }, patch: { interval: 5, old: null } }
 * ```
 */
export function readDesiredEdit(text: string, current: TwinProperties): TwinEdit {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, issues: [parseIssue(text, error)] };
  }
  if (!isObject(value)) {
    const got = Array.isArray(value) ? "an array" : value === null ? "null" : typeof value;
    return { ok: false, issues: [{ path: "$", message: `expected a JSON object, got ${got}` }] };
  }
  const issues: TwinEditIssue[] = [];
  checkValue(value, "$", 0, issues);
  const size = new TextEncoder().encode(JSON.stringify(value)).length;
  if (size > MAX_TWIN_SIDE_BYTES) {
    issues.push({
      path: "$",
      message: `${size} bytes, more than the ${MAX_TWIN_SIDE_BYTES} a twin side may hold`,
    });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, desired: value, patch: diffProperties(withoutMetadata(current), value) };
}

/** A twin side without its `$version` and `$metadata`. */
export function withoutMetadata(properties: TwinProperties): TwinProperties {
  return Object.fromEntries(Object.entries(properties).filter(([key]) => !key.startsWith("$")));
}
