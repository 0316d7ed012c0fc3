/**
 * Telemetry <-> {@linkcode Message}: the property bag's `$.x` keys become named system properties
 * (the names routes query), everything else is an application property; the hub stamps who sent
 * it (`connectionDeviceId`, `connectionModuleId`), a messageId when absent, and `enqueuedTime`.
 */
import { parsePropertyBag } from "./property_bag.ts";
import type { Message } from "./message.ts";

/** Bag keys (`$.x`) and the system property each one carries. */
export const SYSTEM_KEYS: Readonly<Record<string, string>> = {
  "$.mid": "messageId",
  "$.cid": "correlationId",
  "$.uid": "userId",
  "$.to": "to",
  "$.exp": "expiryTimeUtc",
  "$.ct": "contentType",
  "$.ce": "contentEncoding",
  "$.on": "outputName",
  "$.schema": "messageSchema",
  "$.ctime": "creationTime",
  "$.ifid": "interfaceId",
  "$.sub": "componentName",
  "$.cdid": "connectionDeviceId",
  "$.cmid": "connectionModuleId",
};

/** System properties only the hub sets: a sender's value for these is ignored. */
const HUB_STAMPED = new Set([
  "connectionDeviceId",
  "connectionModuleId",
  "connectionDeviceGenerationId",
  "connectionAuthMethod",
  "enqueuedTime",
  "inputName",
]);

/** The bag key of each system property a receiver sees, percent-encoded (`%24.mid`). */
const ENCODED_BAG_KEY_OF: Record<string, string> = Object.assign(
  // No prototype: a property named `constructor` or `toString` is not a system property.
  Object.create(null),
  Object.fromEntries(
    Object.entries(SYSTEM_KEYS).map(([key, name]) => [name, encodeURIComponent(key)]),
  ),
);

/** A message larger than the hub accepts. */
export class MessageTooLargeError extends RangeError {
  override name = "MessageTooLargeError";
}

/** Who sent a message, as the hub authenticated it. */
export interface MessageSender {
  deviceId: string;
  moduleId?: string | undefined;
  generationId?: string | undefined;
  authMethod?: string | undefined;
}

/** Options for {@linkcode messageFromTelemetry}. */
export interface TelemetryOptions {
  sender: MessageSender;
  /** Largest accepted size: body plus property bag, in bytes. */
  maxMessageBytes: number;
  now?: () => Date;
  newId?: () => string;
}

/**
 * Builds the message a client published on a telemetry topic.
 *
 * @throws {MessageTooLargeError} when body and properties exceed `maxMessageBytes`.
 * @throws {PropertyBagError} when the bag has an invalid escape.
 */
export function messageFromTelemetry(
  body: Uint8Array,
  options: TelemetryOptions & { bag: string },
): Message {
  const size = body.byteLength + options.bag.length;
  if (size > options.maxMessageBytes) {
    throw new MessageTooLargeError(
      `Cannot accept message: ${size} bytes exceeds hub.max_message_bytes (${options.maxMessageBytes})`,
    );
  }
  const { appProperties, systemProperties } = splitBag(options.bag);
  return { body, appProperties, systemProperties: stampSender(systemProperties, options) };
}

/**
 * A telemetry bag's properties: `$.x` keys as the system properties they name, other `$.` keys
 * dropped, the rest application properties.
 *
 * @throws {PropertyBagError} when the bag has an invalid escape.
 */
export function splitBag(
  bag: string,
): { appProperties: Record<string, string>; systemProperties: Record<string, string> } {
  const appProperties: Record<string, string> = {};
  const systemProperties: Record<string, string> = {};
  for (const [key, value] of parsePropertyBag(bag)) {
    const name = SYSTEM_KEYS[key];
    if (name !== undefined) {
      systemProperties[name] = value;
    } else if (!key.startsWith("$.")) {
      appProperties[key] = value;
    }
  }
  return { appProperties, systemProperties };
}

/**
 * A new random message id (a v4 UUID). crypto.randomUUID() hands out a view into a batch of ids
 * made at once; JSON.stringify of a property bag holding such a view took 450 ns instead of 190
 * (V8 leaves its fast path for it), and the store stringifies every message's bag. toLowerCase()
 * of the (already lower-case) id gives the same text as a string of its own (+50 ns).
 */
export function newMessageId(): string {
  return crypto.randomUUID().toLowerCase();
}

let lastNowMs = NaN;
let lastNowIso = "";

/** Now as ISO 8601 text, formatted once per millisecond. */
export function isoNow(): string {
  const now = Date.now();
  if (now !== lastNowMs) {
    lastNowMs = now;
    lastNowIso = isoText(now);
  }
  return lastNowIso;
}

/** `.sssZ` of each millisecond. */
const MILLIS_TEXT = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, "0")}Z`);
let lastSecond = NaN;
/** `YYYY-MM-DDTHH:MM:SS.` of `lastSecond`. */
let lastSecondPrefix = "";

/**
 * `new Date(ms).toISOString()`, with the text up to the second made once per second: Deno's
 * toISOString takes ~740 ns, this ~90. toUpperCase() (of text it leaves as it is) makes the
 * joined text a string of its own: JSON.stringify of a bag holding a joined one leaves V8's
 * fast path, as with a slice.
 */
export function isoText(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    const iso = new Date(second * 1000).toISOString();
    lastSecondPrefix = iso.slice(0, iso.length - 4);
    lastSecond = second;
  }
  return (lastSecondPrefix + MILLIS_TEXT[ms - second * 1000]!).toUpperCase();
}

/**
 * Stamps what only the hub may say about a message it accepted: who sent it
 * (`connectionDeviceId`, `connectionModuleId`, `connectionDeviceGenerationId`,
 * `connectionAuthMethod`), a `messageId` when the sender gave none, and `enqueuedTime`. A
 * sender's own value for a hub-stamped property is dropped. Every protocol head builds its
 * Message with this, so routes see the same properties whatever the transport.
 *
 * @returns a new object; `sent` is not changed.
 */
export function stampSender(
  sent: Readonly<Record<string, string>>,
  options: Omit<TelemetryOptions, "maxMessageBytes">,
): Record<string, string> {
  const systemProperties: Record<string, string> = {};
  for (const name in sent) {
    if (Object.hasOwn(sent, name) && !HUB_STAMPED.has(name)) systemProperties[name] = sent[name]!;
  }
  const { sender } = options;
  systemProperties.connectionDeviceId = sender.deviceId;
  if (sender.moduleId !== undefined) systemProperties.connectionModuleId = sender.moduleId;
  if (sender.generationId !== undefined) {
    systemProperties.connectionDeviceGenerationId = sender.generationId;
  }
  if (sender.authMethod !== undefined) systemProperties.connectionAuthMethod = sender.authMethod;
  systemProperties.messageId ??= options.newId?.() ?? newMessageId();
  systemProperties.enqueuedTime = options.now ? options.now().toISOString() : isoNow();
  return systemProperties;
}

/**
 * The property bag a message is delivered with: application properties, then the system
 * properties a receiver sees (`$.mid`, `$.cid`, `$.ct`, `$.ce`, `$.cdid`, `$.cmid`, ...).
 */
export function bagForDelivery(message: Message): string {
  let bag = "";
  const { appProperties, systemProperties } = message;
  // for...in: Object.entries would allocate a pair per property, and this runs per delivery.
  for (const name in appProperties) {
    if (!Object.hasOwn(appProperties, name)) continue;
    bag += `${bag === "" ? "" : "&"}${encodeComponent(name)}=${
      encodeComponent(appProperties[name]!)
    }`;
  }
  for (const name in systemProperties) {
    const key = deliveredKey(systemProperties, name);
    if (key === undefined) continue;
    const value = systemProperties[name]!;
    bag += `${bag === "" ? "" : "&"}${key}=${encodeComponent(value)}`;
  }
  return bag;
}

/**
 * Bytes of {@linkcode bagForDelivery}'s text (ASCII, percent-encoded) without building it: with
 * {@linkcode writeDeliveryBag}, a delivery's topic is written into the packet straight from the
 * message, where the text (~250 characters, in ~15 pieces) was built, flattened and copied.
 *
 * @throws {URIError} where bagForDelivery would (a lone surrogate).
 */
export function deliveryBagLength(message: Message): number {
  let length = 0;
  const { appProperties, systemProperties } = message;
  for (const name in appProperties) {
    if (!Object.hasOwn(appProperties, name)) continue;
    // Each entry writes at least its "=", so a first entry leaves length above 0.
    length += (length === 0 ? 0 : 1) + componentLength(name) + 1 +
      componentLength(appProperties[name]!);
  }
  for (const name in systemProperties) {
    const key = deliveredKey(systemProperties, name);
    if (key === undefined) continue;
    const value = systemProperties[name]!;
    length += (length === 0 ? 0 : 1) + key.length + 1 + componentLength(value);
  }
  return length;
}

/**
 * Writes {@linkcode bagForDelivery}'s text into `out` at `at` (its
 * {@linkcode deliveryBagLength} bytes, which must fit); returns the index after it.
 */
export function writeDeliveryBag(message: Message, out: Uint8Array, at: number): number {
  const start = at;
  const { appProperties, systemProperties } = message;
  for (const name in appProperties) {
    if (!Object.hasOwn(appProperties, name)) continue;
    if (at !== start) out[at++] = 0x26; // &
    at = writeComponent(name, out, at);
    out[at++] = 0x3d; // =
    at = writeComponent(appProperties[name]!, out, at);
  }
  for (const name in systemProperties) {
    const key = deliveredKey(systemProperties, name);
    if (key === undefined) continue;
    const value = systemProperties[name]!;
    if (at !== start) out[at++] = 0x26;
    at = writeAscii(key, out, at);
    out[at++] = 0x3d;
    at = writeComponent(value, out, at);
  }
  return at;
}

/** Whether `encodeURIComponent(text)` is `text` itself. */
function isUnreserved(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || UNRESERVED[code] === 0) return false;
  }
  return true;
}

function componentLength(text: string): number {
  return isUnreserved(text) ? text.length : encodeURIComponent(text).length;
}

function writeComponent(text: string, out: Uint8Array, at: number): number {
  return writeAscii(isUnreserved(text) ? text : encodeURIComponent(text), out, at);
}

function writeAscii(text: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/**
 * The bag key (`%24.mid`, ...) of system property `name` when a receiver sees it: one the hub
 * delivers, the bag's own, and set.
 */
function deliveredKey(
  systemProperties: Message["systemProperties"],
  name: string,
): string | undefined {
  const key = ENCODED_BAG_KEY_OF[name];
  if (key === undefined || !Object.hasOwn(systemProperties, name)) return undefined;
  return systemProperties[name] === undefined ? undefined : key;
}

/** Characters `encodeURIComponent` leaves as they are (A-Z a-z 0-9 - _ . ! ~ * ' ( )). */
const UNRESERVED = new Uint8Array(128).map((_, code) =>
  /[A-Za-z0-9\-_.!~*'()]/.test(String.fromCharCode(code)) ? 1 : 0
);

/** `encodeURIComponent`, returning `text` itself when nothing needs escaping (most values). */
function encodeComponent(text: string): string {
  return isUnreserved(text) ? text : encodeURIComponent(text);
}
