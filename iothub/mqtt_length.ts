/**
 * The MQTT 3.1.1 remaining length (sec. 2.2.3): 1 to 4 bytes, 7 bits each, least significant first,
 * the top bit set while more follow. Written by the hub's packets and the upstream link's alike.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(4);
 * writeRemainingLength(out, 0, 321); // 2: out is [0xc1, 0x02, ...]
 * remainingLengthSize(321); // 2
 * ```
 *
 * @module
 */

/** Bytes the remaining length `length` takes (1-4; lengths up to 268,435,455). */
export function remainingLengthSize(length: number): number {
  return length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : 4;
}

/** Writes the remaining length `length` into `out` at `at`; returns the index after it. */
export function writeRemainingLength(out: Uint8Array, at: number, length: number): number {
  do {
    let byte = length & 0x7f;
    length >>>= 7;
    if (length > 0) byte |= 0x80;
    out[at++] = byte;
  } while (length > 0);
  return at;
}
