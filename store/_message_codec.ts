/**
 * Checking a message before it is stored and turning its property bags into the one text column
 * the store keeps them in. Private to store/.
 */
import type { IncomingMessage, StoredMessage } from "./stored_message.ts";

const encoder = new TextEncoder();
/** Where {@linkcode utf8Length} lets TextEncoder write, to count what it wrote. */
const scratch = new Uint8Array(4096);

/**
 * Bytes of `text` in UTF-8 (as TextEncoder would write it). TextEncoder counts a property
 * column (~230 characters) in ~70 ns where a loop over its characters took ~1 us; what does not
 * fit the scratch buffer is counted by the loop.
 */
export function utf8Length(text: string): number {
  const { read, written } = encoder.encodeInto(text, scratch);
  // encodeInto stops before a surrogate pair it cannot fit, so the rest starts at a character.
  return read === text.length ? written : written + utf8LengthFrom(text, read);
}

/** Bytes in UTF-8 of `text` from UTF-16 index `start` on, counted character by character. */
export function utf8LengthFrom(text: string, start: number): number {
  let bytes = text.length - start;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (
      code >= 0xd800 && code <= 0xdbff && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      // A surrogate pair: two UTF-16 units, four bytes.
      bytes += 2;
      i++;
    } else {
      // Three bytes, a lone surrogate included (written as U+FFFD).
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * Whether a bag's `value` is stored: true for a string, false for an undefined system property
 * (dropped); anything else throws a TypeError naming `field.key`.
 */
function isStoredValue(
  field: string,
  key: string,
  value: unknown,
  allowUndefined: boolean,
): boolean {
  if (typeof value === "string") return true;
  if (value === undefined && allowUndefined) return false;
  throw new TypeError(
    `Cannot enqueue: ${field}.${key} must be a string, got ${
      value === null ? "null" : typeof value
    }`,
  );
}

/**
 * True when `bag` can be kept as it is: frozen plain data (the caller cannot change it after the
 * enqueue, so the store needs no copy) whose values are all strings. Throws what
 * {@linkcode copyBag} throws for a bad value; false for an undefined one (the copy drops it).
 */
function keepsAsIs(bag: Record<string, unknown>, field: string, allowUndefined: boolean): boolean {
  if (!Object.isFrozen(bag)) return false;
  const prototype = Object.getPrototypeOf(bag);
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key in bag) {
    if (Object.hasOwn(bag, key) && !isStoredValue(field, key, bag[key], allowUndefined)) {
      return false;
    }
  }
  return true;
}

/** A copy of `bag` without undefined values; throws TypeError naming a value that is no string. */
function copyBag(
  bag: Record<string, unknown>,
  field: string,
  allowUndefined: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  // for...in with an own-property check: Object.entries would allocate a pair per property.
  for (const key in bag) {
    if (!Object.hasOwn(bag, key)) continue;
    const value = bag[key];
    if (isStoredValue(field, key, value, allowUndefined)) out[key] = value as string;
  }
  return out;
}

/**
 * The bag the store keeps: a frozen one as it is (checked, not copied: the MQTT head hands over
 * frozen bags, ~100 ns and an object less per message), any other a checked copy, so a caller
 * changing its bag after the enqueue does not change the stored message.
 */
function checkBag(
  bag: unknown,
  field: string,
  allowUndefined: boolean,
): Record<string, string> {
  if (typeof bag !== "object" || bag === null || Array.isArray(bag)) {
    throw new TypeError(`Cannot enqueue: ${field} must be an object of strings`);
  }
  const source = bag as Record<string, unknown>;
  return keepsAsIs(source, field, allowUndefined)
    ? source as Record<string, string>
    : copyBag(source, field, allowUndefined);
}

/**
 * A validated message, its properties encoded, and the bytes it counts against a queue bound.
 * The store fills one of these per enqueue, again and again: read it before the next.
 */
export interface EncodedMessage {
  /**
   * The body and the property bags the store keeps: frozen ones as they came, others copied
   * without undefined values.
   */
  message: StoredMessage;
  properties: string;
  sizeBytes: number;
}

/** An {@linkcode EncodedMessage} to fill. */
export function newEncodedMessage(): EncodedMessage {
  return {
    message: { body: new Uint8Array(), appProperties: {}, systemProperties: {} },
    properties: "",
    sizeBytes: 0,
  };
}

/**
 * Validates `message` and encodes its property bags into `into` (returned). Undefined system
 * properties (the router's `Message` allows them) are dropped. Throws TypeError naming the bad
 * field.
 */
export function encodeMessage(
  message: IncomingMessage,
  into: EncodedMessage = newEncodedMessage(),
): EncodedMessage {
  if (typeof message !== "object" || message === null) {
    throw new TypeError("Cannot enqueue: message must be an object");
  }
  if (!(message.body instanceof Uint8Array)) {
    throw new TypeError("Cannot enqueue: body must be a Uint8Array");
  }
  const app = checkBag(message.appProperties, "appProperties", false);
  const system = checkBag(message.systemProperties, "systemProperties", true);
  const properties = JSON.stringify([app, system]);
  into.message = { body: message.body, appProperties: app, systemProperties: system };
  into.properties = properties;
  into.sizeBytes = message.body.byteLength + utf8Length(properties);
  return into;
}

function isStringBag(value: unknown): value is Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  // A loop, not Object.values(): read for every message of a backlog, it allocated an array each.
  const bag = value as Record<string, unknown>;
  for (const key in bag) if (typeof bag[key] !== "string") return false;
  return true;
}

/** Rebuilds a stored message from its columns; throws Error when the row is damaged. */
export function decodeMessage(properties: string, body: Uint8Array, seq: number): StoredMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(properties);
  } catch (error) {
    throw new Error(`Cannot read message ${seq}: properties are not JSON`, { cause: error });
  }
  if (!Array.isArray(parsed) || !isStringBag(parsed[0]) || !isStringBag(parsed[1])) {
    throw new Error(`Cannot read message ${seq}: properties are not two string maps`);
  }
  return { body, appProperties: parsed[0], systemProperties: parsed[1] };
}
