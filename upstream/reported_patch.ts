/**
 * Merging reported-property patches that wait to be sent, so a burst of updates goes up as one
 * PATCH. `null` deletes a key, as in IoT Hub.
 */

/** A twin patch: JSON object, `null` deletes. */
export type TwinPatch = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The single patch equal to applying `first` then `second`, or undefined when none exists:
 * `first` deletes a key (`null`) under which `second` sets an object; one patch cannot say
 * "delete, then set only these children", so the two must be sent in turn.
 *
 * @example
 * ```ts
 * mergeReportedPatches({ a: { x: 1 }, b: 1 }, { a: { y: 2 }, b: null }); // { a: { x: 1, y: 2 }, b: null }
 * ```
 */
export function mergeReportedPatches(first: TwinPatch, second: TwinPatch): TwinPatch | undefined {
  const merged: TwinPatch = { ...first };
  for (const [key, value] of Object.entries(second)) {
    const before = first[key];
    if (isObject(value) && isObject(before)) {
      const inner = mergeReportedPatches(before, value);
      if (inner === undefined) return undefined;
      merged[key] = inner;
    } else if (isObject(value) && before === null) {
      return undefined;
    } else {
      merged[key] = value;
    }
  }
  return merged;
}
