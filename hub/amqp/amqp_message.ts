/**
 * AMQP message <-> {@linkcode Message}, with the property names IoT Hub and edgeHub use, so a
 * route sees the same system and application properties whether the sender spoke MQTT or AMQP:
 *
 * - properties: `message_id` -> messageId, `correlation_id` -> correlationId, `content_type`,
 *   `content_encoding`, `to`, `user_id` (UTF-8), `absolute_expiry_time` -> expiryTimeUtc;
 * - application properties `iothub-outputname` -> outputName, `iothub-creation-time-utc` ->
 *   creationTime, `iothub-message-schema` -> messageSchema; every other one is an application
 *   property (IoT Hub carries them as strings: numbers and booleans become their text);
 * - message annotations `iothub-interface-id` -> interfaceId, `dt-subject` -> componentName.
 *
 * Deliveries carry `iothub-enqueuedtime`, `x-opt-input-name`, `iothub-connection-device-id`,
 * `iothub-connection-module-id` (and `x-opt-lock-token` for C2D) as annotations.
 */
import {
  type Message,
  MessageTooLargeError,
  stampSender,
  type TelemetryOptions,
} from "../../iothub/mod.ts";
import { Buffer } from "node:buffer";
import rhea, { type Delivery, type Message as RheaMessage, type Sender } from "rhea";

/** The fields of a received AMQP message the hub reads; values are unchecked wire data. */
export interface AmqpWireMessage {
  message_id?: unknown;
  correlation_id?: unknown;
  to?: unknown;
  reply_to?: unknown;
  user_id?: unknown;
  content_type?: unknown;
  content_encoding?: unknown;
  absolute_expiry_time?: unknown;
  application_properties?: unknown;
  message_annotations?: unknown;
  body?: unknown;
}

/** A message as rhea's sender takes it. */
export interface AmqpOutgoingMessage {
  message_id?: string;
  correlation_id?: string;
  to?: string;
  user_id?: Buffer;
  content_type?: string;
  content_encoding?: string;
  absolute_expiry_time?: Date;
  application_properties?: Record<string, unknown>;
  message_annotations?: Record<string, unknown>;
  body: unknown;
}

// A Map: an application property named like an Object.prototype member is not a system name.
const APP_PROPERTY_SYSTEM_NAMES: ReadonlyMap<string, string> = new Map([
  ["iothub-outputname", "outputName"],
  ["iothub-creation-time-utc", "creationTime"],
  ["iothub-message-schema", "messageSchema"],
]);

const ANNOTATION_SYSTEM_NAMES: Readonly<Record<string, string>> = {
  "iothub-interface-id": "interfaceId",
  "dt-subject": "componentName",
};

// Set by the protocol itself or meaningful only between SDK and IoT Hub: not user properties.
const IGNORED_APP_PROPERTIES = new Set(["iothub-operation"]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** An AMQP message-id or correlation-id as IoT Hub's text: uuids in their usual spelling. */
export function idText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (value instanceof Uint8Array) {
    if (value.byteLength !== 16) return hex(value);
    const h = hex(value);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
      h.slice(20)
    }`;
  }
  return undefined;
}

/** An application property value as text; undefined for null and values with no text form. */
function propertyText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value instanceof Date) return value.toISOString();
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/**
 * The payload bytes of a received body: data sections as sent (several are concatenated),
 * an amqp-value string as UTF-8, binary as is, anything else (a sequence, a map) as JSON.
 * Always a fresh plain Uint8Array: rhea's Buffers are views into its frame buffers, which the
 * store must not keep alive.
 */
export function bodyBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (typeof body === "string") return encoder.encode(body);
  if (isRecord(body) && "typecode" in body && "content" in body) {
    const { typecode, content, multiple } = body as {
      typecode: number;
      content: unknown;
      multiple?: boolean;
    };
    if (typecode === 0x75) {
      if (content instanceof Uint8Array) return new Uint8Array(content);
      if (multiple && Array.isArray(content) && content.every((c) => c instanceof Uint8Array)) {
        return concat(content as Uint8Array[]);
      }
    }
    return encoder.encode(JSON.stringify(content));
  }
  return encoder.encode(JSON.stringify(body));
}

function stringField(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function setIfText(system: Record<string, string>, name: string, value: string | undefined) {
  if (value !== undefined && value !== "") system[name] = value;
}

/**
 * The system properties a sender set through the AMQP properties section. Per message: plain
 * statements and for...in, no closure or entry arrays.
 */
function sentSystemProperties(wire: AmqpWireMessage): Record<string, string> {
  const system: Record<string, string> = {};
  setIfText(system, "messageId", idText(wire.message_id));
  setIfText(system, "correlationId", idText(wire.correlation_id));
  setIfText(system, "contentType", stringField(wire.content_type));
  setIfText(system, "contentEncoding", stringField(wire.content_encoding));
  setIfText(system, "to", stringField(wire.to));
  if (wire.user_id instanceof Uint8Array) setIfText(system, "userId", decoder.decode(wire.user_id));
  if (wire.absolute_expiry_time instanceof Date && !isNaN(wire.absolute_expiry_time.getTime())) {
    setIfText(system, "expiryTimeUtc", wire.absolute_expiry_time.toISOString());
  }
  const annotations = wire.message_annotations;
  if (isRecord(annotations)) {
    for (const key in ANNOTATION_SYSTEM_NAMES) {
      setIfText(system, ANNOTATION_SYSTEM_NAMES[key]!, propertyText(annotations[key]));
    }
  }
  return system;
}

function byteSize(properties: Record<string, string | undefined>): number {
  let size = 0;
  for (const key in properties) size += key.length + (properties[key]?.length ?? 0);
  return size;
}

/**
 * Builds the Message of a telemetry transfer (device telemetry or a module output).
 *
 * @throws {MessageTooLargeError} when body and properties exceed `maxMessageBytes`.
 * @example
 * ```ts
 * const message = messageFromAmqp(
 *   { body: "hi", application_properties: { "iothub-outputname": "out1", temp: 21 } },
 *   { sender: { deviceId: "edge", moduleId: "a" }, maxMessageBytes: 262144 },
 * );
 * // message.systemProperties.outputName === "out1"; message.appProperties.temp === "21"
 * ```
 */
export function messageFromAmqp(wire: AmqpWireMessage, options: TelemetryOptions): Message {
  const body = bodyBytes(wire.body);
  const sent = sentSystemProperties(wire);
  const appProperties: Record<string, string> = {};
  const sentProperties = wire.application_properties;
  if (isRecord(sentProperties)) {
    // for...in: Object.entries would allocate a pair per property, and this runs per message.
    for (const key in sentProperties) {
      if (!Object.hasOwn(sentProperties, key)) continue;
      const value = propertyText(sentProperties[key]);
      if (value === undefined || IGNORED_APP_PROPERTIES.has(key)) continue;
      const systemName = APP_PROPERTY_SYSTEM_NAMES.get(key);
      if (systemName !== undefined) sent[systemName] = value;
      else appProperties[key] = value;
    }
  }
  const size = body.byteLength + byteSize(sent) + byteSize(appProperties);
  if (size > options.maxMessageBytes) {
    throw new MessageTooLargeError(
      `Cannot accept message: ${size} bytes exceeds hub.max_message_bytes (${options.maxMessageBytes})`,
    );
  }
  return { body, appProperties, systemProperties: stampSender(sent, options) };
}

/** What a delivery adds to the stored message. */
export interface DeliveryExtras {
  /** The module input the message is delivered on (`x-opt-input-name`). */
  inputName?: string;
  /** The lock token of a C2D delivery (`x-opt-lock-token`). */
  lockToken?: string;
}

function validDate(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  return isNaN(date.getTime()) ? undefined : date;
}

/** Payload bytes as rhea's data section (a Buffer view, no copy). */
export function dataSection(bytes: Uint8Array): unknown {
  return rhea.message.data_section(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function hasKeys(record: Readonly<Record<string, unknown>>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

/**
 * The application properties a message is delivered with: its own (as they are, when no system
 * property joins them: rhea only reads them), then the system ones IoT Hub sends as properties.
 */
function deliveredProperties(message: Message): Record<string, unknown> | undefined {
  const system = message.systemProperties;
  if (!system.messageSchema && !system.creationTime && !system.ack) {
    return hasKeys(message.appProperties) ? message.appProperties : undefined;
  }
  const properties: Record<string, unknown> = { ...message.appProperties };
  if (system.messageSchema) properties["iothub-message-schema"] = system.messageSchema;
  if (system.creationTime) properties["iothub-creation-time-utc"] = system.creationTime;
  if (system.ack) properties["iothub-ack"] = system.ack;
  return properties;
}

/**
 * The AMQP message a module input or a C2D message is delivered as.
 *
 * @example
 * ```ts
 * const wire = amqpFromMessage(queued.message, { inputName: "in1" });
 * sender.send(wire);
 * ```
 */
export function amqpFromMessage(
  message: Message,
  extras: DeliveryExtras = {},
): AmqpOutgoingMessage {
  const system = message.systemProperties;
  const out: AmqpOutgoingMessage = { body: dataSection(message.body) };
  if (system.messageId) out.message_id = system.messageId;
  if (system.correlationId) out.correlation_id = system.correlationId;
  if (system.to) out.to = system.to;
  if (system.userId) out.user_id = Buffer.from(system.userId, "utf8");
  if (system.contentType) out.content_type = system.contentType;
  if (system.contentEncoding) out.content_encoding = system.contentEncoding;
  const expiry = validDate(system.expiryTimeUtc);
  if (expiry) out.absolute_expiry_time = expiry;

  const annotations: Record<string, unknown> = {};
  const enqueued = validDate(system.enqueuedTime);
  if (enqueued) annotations["iothub-enqueuedtime"] = enqueued;
  if (extras.inputName !== undefined) annotations["x-opt-input-name"] = extras.inputName;
  if (extras.lockToken !== undefined) annotations["x-opt-lock-token"] = extras.lockToken;
  if (system.connectionDeviceId) {
    annotations["iothub-connection-device-id"] = system.connectionDeviceId;
  }
  if (system.connectionModuleId) {
    annotations["iothub-connection-module-id"] = system.connectionModuleId;
  }
  if (system.componentName) annotations["dt-subject"] = system.componentName;
  if (system.interfaceId) annotations["iothub-interface-id"] = system.interfaceId;
  out.message_annotations = annotations;

  const properties = deliveredProperties(message);
  if (properties !== undefined) out.application_properties = properties;
  return out;
}

/**
 * Sends on a rhea sender (rhea's typings call `user_id` a string; it is encoded as binary, which
 * is what IoT Hub sends).
 */
export function sendOn(sender: Sender, message: AmqpOutgoingMessage, tag?: Buffer): Delivery {
  return sender.send(message as unknown as RheaMessage, tag);
}
