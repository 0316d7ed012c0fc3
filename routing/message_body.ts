/**
 * Reading a message body as JSON for `$body` queries: the content-type gate, decoding of
 * UTF-8/16/32, and path lookup.
 *
 * @module
 */
import type { Value } from "./route_value.ts";

/** One step of a body path: an object key or an array index. */
export type PathSegment = string | number;

/** Marks a body that cannot be queried (wrong content type or encoding, or not JSON). */
export const NOT_QUERYABLE: unique symbol = Symbol("not queryable");

const ENCODINGS = new Set(["utf-8", "utf-16", "utf-32"]);

/**
 * Whether IoT Hub would query this body: `contentType` is `application/json` and
 * `contentEncoding` is UTF-8, UTF-16 or UTF-32, both compared case-insensitively. Neither may
 * be missing (the IoT Hub docs require both); content-type parameters are not accepted.
 */
export function isQueryableBody(
  contentType: string | undefined,
  contentEncoding: string | undefined,
): boolean {
  return contentType !== undefined && contentEncoding !== undefined &&
    contentType.toLowerCase() === "application/json" &&
    ENCODINGS.has(contentEncoding.toLowerCase());
}

const utf8 = new TextDecoder("utf-8");
const utf16le = new TextDecoder("utf-16le");
const utf16be = new TextDecoder("utf-16be");

/**
 * Decodes a body in the named encoding (`utf-8` when absent). UTF-16 and UTF-32 are read
 * little-endian, as .NET does, unless a byte-order mark says otherwise; a leading BOM is
 * dropped. Returns undefined for an unknown encoding or invalid UTF-32.
 */
export function decodeBody(body: Uint8Array, encoding: string | undefined): string | undefined {
  switch (encoding === undefined ? "utf-8" : encoding.toLowerCase()) {
    case "utf-8":
      return utf8.decode(body);
    case "utf-16":
      if (body[0] === 0xfe && body[1] === 0xff) return utf16be.decode(body.subarray(2));
      return utf16le.decode(body[0] === 0xff && body[1] === 0xfe ? body.subarray(2) : body);
    case "utf-32":
      return decodeUtf32(body);
    default:
      return undefined;
  }
}

function decodeUtf32(body: Uint8Array): string | undefined {
  if (body.length % 4 !== 0) return undefined;
  let bigEndian = false;
  let offset = 0;
  if (body[0] === 0 && body[1] === 0 && body[2] === 0xfe && body[3] === 0xff) {
    bigEndian = true;
    offset = 4;
  } else if (body[0] === 0xff && body[1] === 0xfe && body[2] === 0 && body[3] === 0) {
    offset = 4;
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let text = "";
  for (let i = offset; i < body.length; i += 4) {
    const codePoint = view.getUint32(i, !bigEndian);
    if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return undefined;
    text += String.fromCodePoint(codePoint);
  }
  return text;
}

/** Decodes and parses a JSON body; {@link NOT_QUERYABLE} when it is not valid JSON. */
export function parseJsonBody(body: Uint8Array, encoding: string | undefined): unknown {
  const text = decodeBody(body, encoding);
  if (text === undefined) return NOT_QUERYABLE;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_QUERYABLE;
  }
}

/**
 * Follows `path` from `root`. A missing step, an index into a non-array or a key into a
 * non-object gives Undefined; so does landing on an object or array, as in IoT Edge's
 * `BodyQuery` (queries work on primitive values only). JSON `null` stays `null`.
 *
 * Keys match case-sensitively, as Json.NET's `SelectTokens` does. A missing path is Undefined,
 * as the IoT Hub docs describe (`is_defined($body.x)` tests presence); IoT Edge's provider
 * returns null there, which only differs for `$body.missing = null`. Strings that look like
 * dates stay strings (Json.NET would make them dates, which IoT Edge cannot compare anyway).
 */
export function lookupPath(root: unknown, path: readonly PathSegment[]): Value {
  const found = walk(root, path);
  if (found === null) return null;
  switch (typeof found) {
    case "string":
    case "number":
    case "boolean":
      return found;
    default:
      return undefined;
  }
}

/** Whether `path` exists in `root`, whatever its value (for `twin_change_includes`). */
export function hasPath(root: unknown, path: readonly PathSegment[]): boolean {
  return walk(root, path) !== MISSING;
}

const MISSING: unique symbol = Symbol("missing");

function walk(root: unknown, path: readonly PathSegment[]): unknown {
  let current = root;
  for (const segment of path) {
    if (typeof segment === "number") {
      if (!Array.isArray(current) || segment >= current.length) return MISSING;
      current = current[segment];
    } else {
      if (current === null || typeof current !== "object" || Array.isArray(current)) return MISSING;
      if (!Object.hasOwn(current, segment)) return MISSING;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}
