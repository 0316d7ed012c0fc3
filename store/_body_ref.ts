/** The reference a row keeps to its body in the body log (_body_log.ts). Private to store/. */

/** Where a body is in its segment. */
export interface BodyRef {
  offset: number;
  length: number;
}

/** The 8 bytes a row keeps for a logged body: offset and length, little-endian u32s. */
export function encodeRef(ref: BodyRef): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, ref.offset, true);
  view.setUint32(4, ref.length, true);
  return bytes;
}

/** The reference {@linkcode encodeRef} wrote; throws on anything but 8 bytes. */
export function decodeRef(bytes: Uint8Array): BodyRef {
  if (bytes.byteLength !== 8) {
    throw new Error(`a body reference is 8 bytes, got ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return { offset: view.getUint32(0, true), length: view.getUint32(4, true) };
}
