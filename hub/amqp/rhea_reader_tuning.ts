/**
 * Leaner bodies for two of rhea's decoder functions (`types.Reader`), installed by
 * {@linkcode tuneRhea}: rhea still decodes every value itself, into the same typed values.
 *
 * - `read` built a `{typecode}` object per value before reading it (a frame's performative, a
 *   message's sections and every field and map entry in them): a value that is not described
 *   is now read straight from its typecode; a described one takes rhea's own path;
 * - `read_compound` built a `{size, count}` object per list and map: it now reads both numbers;
 * - `read_variable_width` sliced a Buffer view per string and symbol only to decode it: a string
 *   is now decoded from the frame's buffer in place (binaries are still slices, as before);
 * - `types.unwrap` (a typed value as plain JS, per field of every performative and message
 *   section) built an array literal per value to ask whether it is a map, and a closure per list
 *   and map it mapped; `types.unwrap_map_simple` a closure per map.
 */

import { Buffer } from "node:buffer";

/** A type of rhea's `types.by_code` (not in its typings). */
export interface RheaType {
  width: number;
}

/** The parts of rhea's `types.Reader` this file replaces or calls. */
export interface RheaReader {
  buffer: Buffer;
  position: number;
  read(): unknown;
  read_uint(width: number): number;
  read_n(count: number): unknown[];
  read_value(type: RheaType): unknown;
  read_compound(type: RheaType & { create(items: unknown[]): unknown }): unknown;
  read_variable_width(type: RheaType & { encoding?: BufferEncoding }): unknown;
  read_bytes(size: number): Buffer;
}

/** rhea's reader `read`, without the constructor object for a value that is not described. */
function leanRead(byCode: Record<number, RheaType | undefined>, original: () => unknown) {
  return function read(this: RheaReader): unknown {
    const position = this.position;
    if (position < this.buffer.length) {
      const code = this.buffer[position]!;
      // 0x00 starts a descriptor; an unknown code is rhea's error to raise.
      const type = code === 0x00 ? undefined : byCode[code];
      if (type !== undefined) {
        this.position = position + 1;
        return this.read_value(type);
      }
    }
    return original.call(this);
  };
}

/** rhea's reader `read_compound`: the size (unused) and the count, without an object for them. */
function leanReadCompound(
  this: RheaReader,
  type: RheaType & { create(items: unknown[]): unknown },
): unknown {
  this.read_uint(type.width);
  const count = this.read_uint(type.width);
  return type.create(this.read_n(count));
}

/** rhea's reader `read_variable_width`: a string without the slice it was decoded from. */
function leanReadVariableWidth(
  this: RheaReader,
  type: RheaType & { encoding?: BufferEncoding },
): unknown {
  const size = this.read_uint(type.width);
  if (type.encoding === undefined || !(this.buffer instanceof Buffer)) {
    const slice = this.read_bytes(size);
    return type.encoding ? slice.toString(type.encoding) : slice;
  }
  const start = this.position;
  this.position += size;
  // Like a slice, the end is clamped to the buffer.
  return this.buffer.toString(type.encoding, start, this.position);
}

/** Installs the lean reader functions on rhea's `types.Reader` prototype. */
export function tuneReader(
  reader: { prototype: RheaReader },
  byCode: Record<number, RheaType | undefined>,
): void {
  reader.prototype.read = leanRead(byCode, reader.prototype.read);
  reader.prototype.read_compound = leanReadCompound;
  reader.prototype.read_variable_width = leanReadVariableWidth;
}

/** A value rhea decoded: `types.Typed` (not in its typings). */
interface Typed {
  type: { typecode: number };
  value: unknown;
  descriptor?: { value: unknown };
}

/** The parts of rhea's `types` the lean unwrap replaces or reads. */
export interface RheaUnwrapping {
  unwrap(value: unknown, leaveDescribed?: boolean): unknown;
  unwrap_map_simple(value: Typed): Record<string, unknown>;
  wrap_error(fields: { condition: string }): unknown;
  Null(): object;
  Map8: { typecode: number };
  Map32: { typecode: number };
}

/** rhea's `mapify`: an AMQP map's alternating keys and values as an object. */
function mapify(elements: unknown[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (let i = 0; i + 1 < elements.length;) result[elements[i++] as string] = elements[i++];
  return result;
}

/** rhea's `types.unwrap` and `unwrap_map_simple`, answering the same for every value. */
function leanUnwrap(types: RheaUnwrapping) {
  const typed = types.Null().constructor as new () => Typed;
  const errorComposite = (types.unwrap(types.wrap_error({ condition: "x" })) as object)
    .constructor as new (value: unknown) => unknown;
  // rhea's by_descriptor: a plain object holding the error composite under both descriptors.
  const byDescriptor: Record<string, new (value: unknown) => unknown> = {};
  byDescriptor["29"] = errorComposite;
  byDescriptor["amqp:error:list"] = errorComposite;
  const map8 = types.Map8.typecode;
  const map32 = types.Map32.typecode;

  function unwrap(value: unknown, leaveDescribed?: boolean): unknown {
    if (value instanceof typed) {
      if (value.descriptor) {
        const composite = byDescriptor[value.descriptor.value as string];
        if (composite) return new composite(value.value);
        if (leaveDescribed) return value;
      }
      const unwrapped = unwrap(value.value, true);
      const typecode = value.type.typecode;
      return typecode === map8 || typecode === map32 ? mapify(unwrapped as unknown[]) : unwrapped;
    }
    if (Array.isArray(value)) return value.map(unwrapLeavingDescribed);
    return value;
  }
  function unwrapLeavingDescribed(value: unknown): unknown {
    return unwrap(value, true);
  }
  function unwrapMapSimple(value: Typed): Record<string, unknown> {
    return mapify((value.value as unknown[]).map(unwrapLeavingDescribed));
  }
  return { unwrap, unwrapMapSimple };
}

/** Installs the lean `types.unwrap` and `types.unwrap_map_simple`. */
export function tuneUnwrap(types: RheaUnwrapping): void {
  const { unwrap, unwrapMapSimple } = leanUnwrap(types);
  types.unwrap = unwrap;
  types.unwrap_map_simple = unwrapMapSimple;
}
