/**
 * Decodes createOptions into the canonical {@linkcode ContainerCreate}, matching member names as
 * the engines do (Go's encoding/json: case-insensitively). What the engine would read one way and
 * the policy another is refused with its path: a field named twice under any spellings, a field
 * ledge does not know, a value of the wrong JSON type.
 */
import { ContainerCreate, type Kind } from "./container_schema.ts";
import { JsonObject, type JsonValue } from "./json_scan.ts";

/** Something in createOptions that ledge will not pass on; `path` names the field. */
export interface SpecProblem {
  path: string;
  message: string;
  /** The `[agent.allow]` key that would allow it, when there is one. */
  allow?: string;
}

/** What {@linkcode decodeContainerCreate} made of createOptions. */
export interface DecodedOptions {
  /** The known, well-typed fields (only meaningful when `problems` is empty). */
  spec: ContainerCreate;
  problems: SpecProblem[];
}

/**
 * Go's encoding/json matches a member to a field when the two are equal under Unicode simple case
 * folding (so U+017F (long s) is an "s" and the Kelvin sign a "k"). Upper- then lower-casing equates at least
 * what Go does for ASCII field names; equating more only refuses more.
 */
export function foldKey(key: string): string {
  return key.toUpperCase().toLowerCase();
}

const fieldIndexes = new WeakMap<object, Map<string, string>>();

function fieldIndex(fields: Readonly<Record<string, Kind>>): Map<string, string> {
  let index = fieldIndexes.get(fields);
  if (!index) {
    index = new Map(Object.keys(fields).map((name) => [foldKey(name), name]));
    fieldIndexes.set(fields, index);
  }
  return index;
}

function join(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

function describe(value: JsonValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof JsonObject) return "an object";
  return typeof value === "string"
    ? `the string ${JSON.stringify(value)}`
    : `${typeof value} ${value}`;
}

/** Whether `value` is a default: null, false, 0, "", or lists and objects of nothing else. */
function isZero(value: JsonValue): boolean {
  if (Array.isArray(value)) return value.every(isZero);
  if (value instanceof JsonObject) return value.members.every(([, member]) => isZero(member));
  return value === null || value === false || value === 0 || value === "";
}

class Decoder {
  readonly problems: SpecProblem[] = [];

  wrongType(path: string, expected: string, value: JsonValue): undefined {
    this.problems.push({ path, message: `expected ${expected}, got ${describe(value)}` });
    return undefined;
  }

  value(kind: Kind, value: JsonValue, path: string): unknown {
    switch (kind) {
      case "string":
        return typeof value === "string" ? value : this.wrongType(path, "a string", value);
      case "bool":
        return typeof value === "boolean" ? value : this.wrongType(path, "true or false", value);
      case "int":
        return typeof value === "number" && Number.isSafeInteger(value)
          ? value
          : this.wrongType(path, "an integer", value);
      case "strslice":
        if (typeof value === "string") return [value];
        return this.value({ list: "string" }, value, path);
      case "empty":
        return value instanceof JsonObject && value.members.length === 0
          ? {}
          : this.wrongType(path, "{}", value);
      case "zero":
        if (!isZero(value)) {
          this.problems.push({
            path,
            message: `ledge passes this field on only at its default (empty), got ${
              describe(value)
            }`,
          });
        }
        return undefined;
    }
    if ("list" in kind) return this.list(kind.list, value, path);
    if ("map" in kind) return this.map(kind.map, value, path);
    return this.struct(kind.struct, value, path);
  }

  list(item: Kind, value: JsonValue, path: string): unknown[] | undefined {
    if (!Array.isArray(value)) return this.wrongType(path, "a list", value);
    return value.map((entry, i) => this.value(item, entry, `${path}[${i}]`));
  }

  map(item: Kind, value: JsonValue, path: string): Record<string, unknown> | undefined {
    if (!(value instanceof JsonObject)) return this.wrongType(path, "an object", value);
    const entries = new Map<string, unknown>();
    for (const [key, entry] of value.members) {
      const at = `${path}[${JSON.stringify(key)}]`;
      if (entries.has(key)) {
        this.problems.push({ path: at, message: "given twice; write it once" });
        continue;
      }
      entries.set(key, this.value(item, entry, at));
    }
    return Object.fromEntries(entries);
  }

  struct(
    fields: Readonly<Record<string, Kind>>,
    value: JsonValue,
    path: string,
  ): Record<string, unknown> | undefined {
    if (!(value instanceof JsonObject)) return this.wrongType(path, "an object", value);
    const index = fieldIndex(fields);
    const out: Record<string, unknown> = {};
    const spelled = new Map<string, string>();
    for (const [key, entry] of value.members) {
      const name = index.get(foldKey(key));
      if (name === undefined) {
        this.problems.push({
          path: join(path, key),
          message: "not a field ledge passes to the container engine (unknown fields are refused)",
        });
        continue;
      }
      const earlier = spelled.get(name);
      if (earlier !== undefined) {
        this.problems.push({
          path: join(path, name),
          message: `given twice, as ${JSON.stringify(earlier)} and ${
            JSON.stringify(key)
          } (the engine reads names case-insensitively and takes the last); write it once`,
        });
        continue;
      }
      spelled.set(name, key);
      if (entry === null) continue;
      const decoded = this.value(fields[name]!, entry, join(path, name));
      if (decoded !== undefined) out[name] = decoded;
    }
    return out;
  }
}

/**
 * Decodes createOptions (already read as JSON) into the canonical body.
 *
 * @example
 * ```ts
 * decodeContainerCreate(scanJson('{"hostconfig":{"CapAdd":"NET_ADMIN"}}'));
 * // { spec: { HostConfig: { CapAdd: ["NET_ADMIN"] } }, problems: [] }
 * ```
 */
export function decodeContainerCreate(options: JsonValue): DecodedOptions {
  const decoder = new Decoder();
  const spec = decoder.value(ContainerCreate, options, "") as ContainerCreate | undefined;
  return { spec: spec ?? {}, problems: decoder.problems };
}
