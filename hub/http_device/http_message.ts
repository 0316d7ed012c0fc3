/**
 * The HTTPS device API's messages <-> {@linkcode Message}, with IoT Hub's header names: a telemetry
 * POST carries system properties as `iothub-messageid`, `iothub-correlationid`,
 * `iothub-contenttype`, ... and application properties as `iothub-app-{name}`; a batch
 * (`application/vnd.microsoft.iothub.json`) is a JSON array of `{body (base64), properties}`. A
 * C2D message is answered with the same headers and its lock token as the ETag.
 */
import {
  type Message,
  MessageTooLargeError,
  stampSender,
  type TelemetryOptions,
} from "../../iothub/mod.ts";

/** The content type of a telemetry batch. */
export const BATCH_CONTENT_TYPE = "application/vnd.microsoft.iothub.json";
/** The prefix of an application property's header. */
export const APP_PREFIX = "iothub-app-";

/** A request whose body or headers are not IoT Hub's (answered 400). */
export class HttpMessageError extends Error {
  override name = "HttpMessageError";
}

/** System properties by header name (lower case), as IoT Hub's HTTPS endpoint reads them. */
const SYSTEM_HEADERS: Readonly<Record<string, string>> = {
  "iothub-messageid": "messageId",
  "iothub-correlationid": "correlationId",
  "iothub-userid": "userId",
  "iothub-expiry": "expiryTimeUtc",
  "iothub-ack": "ack",
  "iothub-contenttype": "contentType",
  "iothub-contentencoding": "contentEncoding",
  "iothub-interface-id": "interfaceId",
  "iothub-creation-time-utc": "creationTime",
  "iothub-messageschema": "messageSchema",
  "iothub-message-schema": "messageSchema",
  "dt-subject": "componentName",
};

/** One message's properties as sent: header (or batch property) name -> value. */
type SentProperties = Iterable<readonly [string, string]>;

function split(
  sent: SentProperties,
  options: { unprefixedAreApp: boolean },
): { system: Record<string, string>; app: Record<string, string> } {
  const system: Record<string, string> = {};
  const app: Record<string, string> = {};
  for (const [rawName, value] of sent) {
    const name = rawName.toLowerCase();
    const systemName = SYSTEM_HEADERS[name];
    if (systemName !== undefined) {
      if (value !== "") system[systemName] = value;
    } else if (name.startsWith(APP_PREFIX) && name.length > APP_PREFIX.length) {
      app[rawName.slice(APP_PREFIX.length)] = value;
    } else if (options.unprefixedAreApp && !name.startsWith("iothub-")) {
      app[rawName] = value;
    }
  }
  return { system, app };
}

function sizeOf(properties: Record<string, string>): number {
  let size = 0;
  for (const [key, value] of Object.entries(properties)) size += key.length + value.length;
  return size;
}

function build(
  body: Uint8Array,
  parts: { system: Record<string, string>; app: Record<string, string> },
  options: TelemetryOptions,
): Message {
  const size = body.byteLength + sizeOf(parts.system) + sizeOf(parts.app);
  if (size > options.maxMessageBytes) {
    throw new MessageTooLargeError(
      `Cannot accept message: ${size} bytes exceeds hub.max_message_bytes (${options.maxMessageBytes})`,
    );
  }
  return {
    body,
    appProperties: parts.app,
    systemProperties: stampSender(parts.system, options),
  };
}

/**
 * The Message of a single telemetry POST: its body and its `iothub-*` headers.
 *
 * @throws {MessageTooLargeError} above `maxMessageBytes`.
 */
export function messageFromRequest(
  body: Uint8Array,
  headers: Headers,
  options: TelemetryOptions,
): Message {
  return build(body, split(headers.entries(), { unprefixedAreApp: false }), options);
}

function decodeBase64(text: string, index: number): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw new HttpMessageError(`Cannot read batch: [${index}].body is not base64`);
  }
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/**
 * The Messages of a batch POST: a JSON array of `{body, base64Encoded?, properties?}`; the body
 * is base64 unless `base64Encoded` is false (the Node SDK sends base64 without the flag).
 *
 * @throws {HttpMessageError} naming the entry that is wrong.
 * @throws {MessageTooLargeError} when one message is above `maxMessageBytes`.
 */
export function messagesFromBatch(text: string, options: TelemetryOptions): Message[] {
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch {
    throw new HttpMessageError("Cannot read batch: the body is not JSON");
  }
  if (!Array.isArray(entries)) throw new HttpMessageError("Cannot read batch: expected an array");
  return entries.map((entry, index) => {
    if (typeof entry !== "object" || entry === null) {
      throw new HttpMessageError(`Cannot read batch: [${index}] is not an object`);
    }
    const { body, base64Encoded, properties } = entry as Record<string, unknown>;
    if (typeof body !== "string") {
      throw new HttpMessageError(`Cannot read batch: [${index}].body must be a string`);
    }
    const bytes = base64Encoded === false
      ? new TextEncoder().encode(body)
      : decodeBase64(body, index);
    const sent: [string, string][] = [];
    if (properties !== undefined) {
      if (typeof properties !== "object" || properties === null || Array.isArray(properties)) {
        throw new HttpMessageError(`Cannot read batch: [${index}].properties must be an object`);
      }
      for (const [name, value] of Object.entries(properties)) {
        if (typeof value !== "string") {
          throw new HttpMessageError(
            `Cannot read batch: [${index}].properties.${name} must be a string`,
          );
        }
        sent.push([name, value]);
      }
    }
    return build(bytes, split(sent, { unprefixedAreApp: true }), options);
  });
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A header value as HTTP can carry it: printable ASCII as is, anything else percent-encoded. */
function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

/** The response headers of a C2D message handed out under `lockToken`. */
export function c2dHeaders(message: Message, lockToken: string): Headers {
  const headers = new Headers({ etag: `"${lockToken}"` });
  const system = message.systemProperties;
  const put = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== "") headers.set(name, headerValue(value));
  };
  put("iothub-messageid", system.messageId);
  put("iothub-correlationid", system.correlationId);
  put("iothub-to", system.to);
  put("iothub-userid", system.userId);
  put("iothub-expiry", system.expiryTimeUtc);
  put("iothub-enqueuedtime", system.enqueuedTime);
  put("iothub-ack", system.ack);
  put("iothub-contenttype", system.contentType);
  put("iothub-contentencoding", system.contentEncoding);
  for (const [name, value] of Object.entries(message.appProperties)) {
    const key = TOKEN.test(name) ? name : encodeURIComponent(name);
    put(`${APP_PREFIX}${key}`, value);
  }
  if (system.contentType) headers.set("content-type", headerValue(system.contentType));
  return headers;
}
