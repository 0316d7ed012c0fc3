/**
 * Twin paths of queries: `tags.[[group]].name` split into segments, and the fixed part (the
 * twin's top-level field, `properties.desired|reported`) spelled canonically so evaluation
 * compares names exactly.
 *
 * @module
 */
import type { ErrorAt } from "../routing/mod.ts";
import type { QueryCollection } from "./query_ast.ts";
import {
  canonicalField,
  DEVICE_TWIN_FIELDS,
  MODULE_TWIN_FIELDS,
  PROPERTY_SIDES,
} from "./twin_fields.ts";

/** Splits `a.[[b.c]].d` into `a`, `b.c`, `d`; undefined when a segment is empty. */
export function splitPath(text: string): string[] | undefined {
  const segments: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let segment: string;
    if (text.startsWith("[[", i)) {
      const close = text.indexOf("]]", i + 2);
      if (close < 0) return undefined;
      segment = text.slice(i + 2, close);
      i = close + 2;
    } else {
      const dot = text.indexOf(".", i);
      const end = dot < 0 ? text.length : dot;
      segment = text.slice(i, end);
      if (segment.includes("[[") || segment.includes("]]")) return undefined;
      i = end;
    }
    if (segment === "") return undefined;
    segments.push(segment);
    if (i >= text.length) break;
    if (text[i] !== ".") return undefined;
    i++;
  }
  return segments;
}

/**
 * `segments` with the twin's field (and `properties` side) spelled canonically, or what is
 * wrong with them (without `found`, which the caller knows).
 */
export function canonicalSegments(
  segments: readonly string[],
  collection: QueryCollection,
): string[] | Omit<ErrorAt, "found"> {
  const fields = collection === "devices" ? DEVICE_TWIN_FIELDS : MODULE_TWIN_FIELDS;
  const field = canonicalField(fields, segments[0]!);
  if (field === undefined) {
    return {
      expected: "a twin field",
      reason: `unknown twin field ${JSON.stringify(segments[0])} in ${collection}`,
      hint: `a path starts with one of ${fields.join(", ")}`,
    };
  }
  const out = [field, ...segments.slice(1)];
  if (field === "properties" && out.length > 1) {
    const side = canonicalField(PROPERTY_SIDES, out[1]!);
    if (side === undefined) {
      return {
        expected: "properties.desired or properties.reported",
        reason: `unknown twin section properties.${out[1]}`,
      };
    }
    out[1] = side;
  }
  return out;
}
