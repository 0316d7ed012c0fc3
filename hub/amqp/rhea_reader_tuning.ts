/**
 * Leaner bodies for two of rhea's decoder functions (`types.Reader`), installed by
 * {@linkcode tuneRhea}: rhea still decodes every value itself, into the same typed values.
 *
 * - `read` built a `{typecode}` object per value before reading it (a frame's performative, a
 *   message's sections and every field and map entry in them): a value that is not described
 *   is now read straight from its typecode; a described one takes rhea's own path;
 * - `read_compound` built a `{size, count}` object per list and map: it now reads both numbers.
 */

/** A type of rhea's `types.by_code` (not in its typings). */
export interface RheaType {
  width: number;
}

/** The parts of rhea's `types.Reader` this file replaces or calls. */
export interface RheaReader {
  buffer: Uint8Array;
  position: number;
  read(): unknown;
  read_uint(width: number): number;
  read_n(count: number): unknown[];
  read_value(type: RheaType): unknown;
  read_compound(type: RheaType & { create(items: unknown[]): unknown }): unknown;
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

/** Installs the lean reader functions on rhea's `types.Reader` prototype. */
export function tuneReader(
  reader: { prototype: RheaReader },
  byCode: Record<number, RheaType | undefined>,
): void {
  reader.prototype.read = leanRead(byCode, reader.prototype.read);
  reader.prototype.read_compound = leanReadCompound;
}
