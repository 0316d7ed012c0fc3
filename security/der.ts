/**
 * ASN.1 DER, as much as certificates and keys need: a writer of the few types ledge emits and a
 * strict reader of TLVs (definite lengths only, nothing past the end, no trailing bytes where a
 * single value is expected).
 */

/** Universal and context tags used here. */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** A DER value that cannot be read. */
export class DerError extends TypeError {
  override name = "DerError";
}

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** One TLV with `tag` around the concatenated `parts`. */
export function tlv(tag: number, ...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const content = concat(parts);
  return concat([new Uint8Array([tag, ...lengthBytes(content.length)]), content]);
}

/** SEQUENCE of `parts`. */
export function sequence(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  return tlv(TAG.sequence, ...parts);
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Uint8Array<ArrayBuffer> {
  const arcs = dotted.split(".").map(Number);
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0)) {
    throw new TypeError(`Cannot encode OID "${dotted}"`);
  }
  const bytes: number[] = [];
  const push = (value: number) => {
    const group = [value & 0x7f];
    for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) {
      group.unshift(0x80 | (rest & 0x7f));
    }
    bytes.push(...group);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(TAG.oid, new Uint8Array(bytes));
}

/** An INTEGER from unsigned big-endian bytes (a 0x00 is prepended when the top bit is set). */
export function unsignedInteger(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  const needsZero = trimmed.length === 0 || (trimmed[0]! & 0x80) !== 0;
  return tlv(TAG.integer, needsZero ? new Uint8Array([0]) : new Uint8Array(), trimmed);
}

/** An INTEGER from a small non-negative number. */
export function smallInteger(value: number): Uint8Array<ArrayBuffer> {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return unsignedInteger(new Uint8Array(bytes));
}

/** BOOLEAN TRUE (DER omits a FALSE that is the default, so only TRUE is ever written). */
export const TRUE = new Uint8Array([TAG.boolean, 1, 0xff]);

/** A UTF8String. */
export function utf8String(text: string): Uint8Array<ArrayBuffer> {
  return tlv(TAG.utf8String, new TextEncoder().encode(text));
}

/** An OCTET STRING. */
export function octetString(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return tlv(TAG.octetString, bytes);
}

/** A BIT STRING of whole bytes. */
export function bitString(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return tlv(TAG.bitString, new Uint8Array([0]), bytes);
}

/**
 * A BIT STRING of named bits (bit 0 first, as in KeyUsage), with trailing zero bits dropped as DER
 * requires.
 */
export function namedBits(bits: readonly number[]): Uint8Array<ArrayBuffer> {
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)]! |= 0x80 >> (bit % 8);
  const unused = 7 - (highest % 8);
  return tlv(TAG.bitString, new Uint8Array([unused]), bytes);
}

function two(value: number): string {
  return String(value).padStart(2, "0");
}

/** UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 sec. 4.1.2.5), to the second. */
export function time(date: Date): Uint8Array<ArrayBuffer> {
  const year = date.getUTCFullYear();
  const rest = two(date.getUTCMonth() + 1) + two(date.getUTCDate()) + two(date.getUTCHours()) +
    two(date.getUTCMinutes()) + two(date.getUTCSeconds()) + "Z";
  const utc = year >= 1950 && year < 2050;
  return tlv(
    utc ? TAG.utcTime : TAG.generalizedTime,
    new TextEncoder().encode((utc ? two(year % 100) : String(year).padStart(4, "0")) + rest),
  );
}

/** A context-specific tag number: `[n]` constructed (EXPLICIT, or an IMPLICIT SEQUENCE). */
export function contextConstructed(n: number): number {
  return 0xa0 | n;
}

/** A context-specific tag number: `[n]` primitive (IMPLICIT). */
export function contextPrimitive(n: number): number {
  return 0x80 | n;
}

/** One TLV as read: its tag, its whole bytes and its content. */
export interface Tlv {
  tag: number;
  /** Header and content. */
  bytes: Uint8Array;
  content: Uint8Array;
}

/** Reads the TLV at `offset` of `bytes`. */
export function readTlv(bytes: Uint8Array, offset = 0): Tlv {
  const fail = (reason: string): never => {
    throw new DerError(`Cannot read DER at byte ${offset}: ${reason}`);
  };
  if (offset + 2 > bytes.length) fail("truncated header");
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) fail("multi-byte tags are not supported");
  let length = bytes[offset + 1]!;
  let at = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) fail("indefinite or oversized length");
    if (at + count > bytes.length) fail("truncated length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[at + i]!;
    if (length < 0x80 || bytes[at] === 0) fail("length not in its shortest form");
    at += count;
  }
  if (at + length > bytes.length) fail(`content of ${length} bytes runs past the end`);
  return {
    tag,
    bytes: bytes.subarray(offset, at + length),
    content: bytes.subarray(at, at + length),
  };
}

/** Reads exactly one TLV spanning all of `bytes`, of `tag` when given. */
export function readOne(bytes: Uint8Array, tag?: number): Tlv {
  const value = readTlv(bytes);
  if (value.bytes.length !== bytes.length) {
    throw new DerError(`Cannot read DER: ${bytes.length - value.bytes.length} trailing bytes`);
  }
  if (tag !== undefined && value.tag !== tag) {
    throw new DerError(
      `Cannot read DER: expected tag 0x${tag.toString(16)}, got 0x${value.tag.toString(16)}`,
    );
  }
  return value;
}

/** The TLVs inside a constructed value's content. */
export function children(content: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < content.length;) {
    const child = readTlv(content, at);
    out.push(child);
    at += child.bytes.length;
  }
  return out;
}

/** The dotted form of an OBJECT IDENTIFIER's content. */
export function oidString(content: Uint8Array): string {
  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (arcs.length === 0) {
        arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      } else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join(".");
}

/** The date of a UTCTime or GeneralizedTime TLV (`Z` form, seconds optional fractions ignored). */
export function readTime(value: Tlv): Date {
  const text = new TextDecoder().decode(value.content);
  const match = value.tag === TAG.utcTime
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text);
  if (!match) throw new DerError(`Cannot read a time: "${text}"`);
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as number[];
  const fullYear = value.tag === TAG.utcTime ? (year! < 50 ? 2000 + year! : 1900 + year!) : year!;
  return new Date(Date.UTC(fullYear, month! - 1, day!, hour!, minute!, second!));
}

/** Lower-case hex of `bytes`. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
