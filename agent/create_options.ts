/**
 * `settings.createOptions`: the Docker Engine API ContainerCreate body, given as a JSON string,
 * as chunks `createOptions`, `createOptions01` ... `createOptions99`, or (a ledge extension) as a
 * plain object.
 */

import { fromParsed, JsonObject, type JsonValue, scanJson } from "./json_scan.ts";

/** The keys that may carry createOptions chunks. */
export const CREATE_OPTIONS_KEY = /^createOptions(0[1-9]|[1-9][0-9])?$/;

/** A createOptions value that cannot be read; `key` names the settings key at fault. */
export class CreateOptionsError extends Error {
  override name = "CreateOptionsError";
  readonly key: string;
  constructor(key: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.key = key;
  }
}

/**
 * Reads the createOptions of a module's `settings`: joins the string chunks in key order and
 * reads the JSON keeping every member (duplicates too), or takes an object as is. Empty, absent
 * or `"null"` means no options.
 *
 * @throws {CreateOptionsError} on a chunk that is not a string, invalid JSON, a non-object, or a
 * settings key spelled like createOptions in another case (IoT Edge would read it, ledge not).
 */
export function readCreateOptions(settings: Record<string, unknown>): JsonObject {
  const near = Object.keys(settings).find((key) =>
    /^createoptions([0-9]{2})?$/i.test(key) && !CREATE_OPTIONS_KEY.test(key)
  );
  if (near !== undefined) {
    throw new CreateOptionsError(near, 'expected "createOptions" (or createOptions01 \u2026 99)');
  }
  const keys = Object.keys(settings).filter((key) => CREATE_OPTIONS_KEY.test(key)).sort();
  if (keys.length === 0) return new JsonObject([]);
  const first = settings[keys[0]!];
  if (keys.length === 1 && typeof first === "object" && first !== null) {
    if (Array.isArray(first)) {
      throw new CreateOptionsError(keys[0]!, "expected a JSON object or a string, got an array");
    }
    try {
      return fromParsed(first) as JsonObject;
    } catch (error) {
      throw new CreateOptionsError(keys[0]!, (error as Error).message, { cause: error });
    }
  }
  let text = "";
  for (const key of keys) {
    const chunk = settings[key];
    if (typeof chunk !== "string") {
      throw new CreateOptionsError(key, `expected a string chunk, got ${describe(chunk)}`);
    }
    text += chunk;
  }
  if (text.trim() === "" || text.trim() === "null") return new JsonObject([]);
  let parsed: JsonValue;
  try {
    parsed = scanJson(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CreateOptionsError(keys[0]!, `expected JSON: ${reason}`, { cause: error });
  }
  if (!(parsed instanceof JsonObject)) {
    throw new CreateOptionsError(keys[0]!, `expected a JSON object, got ${describeJson(parsed)}`);
  }
  return parsed;
}

/**
 * Splits createOptions into the chunked string form IoT Edge reports: 512 characters per key,
 * `createOptions`, then `createOptions01`, `createOptions02` ....
 */
export function chunkCreateOptions(options: object): Record<string, string> {
  const text = JSON.stringify(options);
  const out: Record<string, string> = {};
  for (let i = 0, n = 0; i < text.length || n === 0; i += 512, n++) {
    const key = n === 0 ? "createOptions" : `createOptions${String(n).padStart(2, "0")}`;
    out[key] = text.slice(i, i + 512);
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? JSON.stringify(value) : typeof value;
}

function describeJson(value: JsonValue): string {
  return Array.isArray(value) ? "an array" : describe(value);
}
