/**
 * Twin documents: JSON merge patches (a `null` deletes a key), the diff that turns one desired
 * document into another, and the 32 KiB size bound per side.
 */

/** A twin side (desired or reported) without its `$version`. */
export type TwinProperties = Record<string, unknown>;

/** Largest serialized twin side IoT Hub accepts. */
export const MAX_TWIN_SIDE_BYTES = 32 * 1024;

/** A twin patch that is not acceptable: status is the twin response code (400). */
export class TwinPatchError extends Error {
  override name = "TwinPatchError";
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.status = status;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Applies a merge patch: objects merge key by key, `null` deletes, anything else replaces.
 * Keys starting with `$` are metadata and are ignored.
 */
export function mergePatch(target: TwinProperties, patch: TwinProperties): TwinProperties {
  const out: TwinProperties = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$")) continue;
    if (value === null) delete out[key];
    else if (isObject(value)) {
      const base = out[key];
      out[key] = mergePatch(isObject(base) ? base : {}, value);
    } else out[key] = value;
  }
  return out;
}

/** The merge patch that turns `before` into `after` (removed keys become `null`). */
export function diffProperties(before: TwinProperties, after: TwinProperties): TwinProperties {
  const patch: TwinProperties = {};
  for (const key of Object.keys(before)) {
    if (!(key in after)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    const old = before[key];
    if (isObject(old) && isObject(value)) {
      const inner = diffProperties(old, value);
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else if (JSON.stringify(old) !== JSON.stringify(value)) {
      patch[key] = value;
    }
  }
  return patch;
}

/**
 * Parses a reported- or desired-properties patch from a request body.
 *
 * @throws {TwinPatchError} (400) when the body is not a JSON object.
 */
export function parseTwinPatch(body: Uint8Array | string): TwinProperties {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body));
  } catch {
    throw new TwinPatchError("Cannot apply twin patch: body is not valid JSON");
  }
  if (!isObject(value)) throw new TwinPatchError("Cannot apply twin patch: expected a JSON object");
  return value;
}

/**
 * Checks the size of a twin side after a patch.
 *
 * @throws {TwinPatchError} (400) when it exceeds {@linkcode MAX_TWIN_SIDE_BYTES}.
 */
export function checkTwinSize(side: "desired" | "reported", properties: TwinProperties): void {
  const bytes = new TextEncoder().encode(JSON.stringify(properties)).byteLength;
  if (bytes > MAX_TWIN_SIDE_BYTES) {
    throw new TwinPatchError(
      `Cannot apply twin patch: ${side} properties would be ${bytes} bytes, over the ${MAX_TWIN_SIDE_BYTES}-byte limit`,
    );
  }
}

/**
 * JSON with object keys sorted, so equal documents compare equal; keys named in `omit` (such as
 * `$version`) are left out at every depth.
 */
export function stableJson(value: unknown, omit: readonly string[] = []): string {
  return JSON.stringify(
    value,
    (_key, inner) =>
      typeof inner === "object" && inner !== null && !Array.isArray(inner)
        ? Object.fromEntries(
          Object.entries(inner)
            .filter(([key]) => !omit.includes(key))
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
        : inner,
  );
}
