/**
 * The message the hub routes, and the source path a route's FROM clause is matched against.
 *
 * @module
 */

/** System property names a route reads with `$name` or `{$name}` (IoT Hub spelling). */
export const SYSTEM_PROPERTY_NAMES = [
  "messageId",
  "enqueuedTime",
  "to",
  "correlationId",
  "userId",
  "ack",
  "connectionDeviceId",
  "connectionModuleId",
  "connectionDeviceGenerationId",
  "connectionAuthMethod",
  "contentType",
  "contentEncoding",
  "inputName",
  "outputName",
  "messageSchema",
  "creationTime",
  "componentName",
] as const;

/** One of {@link SYSTEM_PROPERTY_NAMES}. */
export type SystemPropertyName = typeof SYSTEM_PROPERTY_NAMES[number];

/** A message as the hub routes it: raw body bytes plus the two property bags. */
export interface Message {
  /** The payload, untouched; routes only look inside when it is declared JSON. */
  body: Uint8Array;
  /** User properties; IoT Hub carries them as strings. */
  appProperties: Record<string, string>;
  /** Properties set by the SDK or the hub, keyed by {@link SystemPropertyName}. */
  systemProperties: Record<string, string | undefined>;
}

/** Source path of telemetry sent by a device (a leaf device or the edge device itself). */
export const DEVICE_TELEMETRY_SOURCE = "/messages/events";

/** Source path of twin change notifications; the hub passes it explicitly to `match`. */
export const TWIN_CHANGE_NOTIFICATIONS_SOURCE = "/twinChangeNotifications";

/**
 * The source path of a telemetry message, derived from its system properties.
 *
 * A message from a module is `/messages/modules/{connectionModuleId}/outputs/{outputName}`
 * (or `/messages/modules/{connectionModuleId}` without an output); anything else is device
 * telemetry, {@link DEVICE_TELEMETRY_SOURCE}. Twin change notifications cannot be told apart
 * from their properties, so the hub passes {@link TWIN_CHANGE_NOTIFICATIONS_SOURCE} itself.
 *
 * @example
 * ```ts
 * const source = messageSource({
 *   body: new Uint8Array(),
 *   appProperties: {},
 *   systemProperties: { connectionModuleId: "sensor", outputName: "temp" },
 * });
 * // source === "/messages/modules/sensor/outputs/temp"
 * ```
 */
export function messageSource(message: Message): string {
  const { connectionModuleId, outputName } = message.systemProperties;
  if (!connectionModuleId) return DEVICE_TELEMETRY_SOURCE;
  if (!outputName) return `/messages/modules/${connectionModuleId}`;
  return `/messages/modules/${connectionModuleId}/outputs/${outputName}`;
}

const SYSTEM_PROPERTY_BY_LOWER_NAME: ReadonlyMap<string, string> = new Map([
  ...SYSTEM_PROPERTY_NAMES.map((name): [string, string] => [name.toLowerCase(), name]),
  // IoT Hub documents `$dt-subject` as the component name.
  ["dt-subject", "componentName"],
]);

/**
 * The {@link SystemPropertyName} a route's `$name` refers to, matched case-insensitively;
 * other names are returned unchanged (they are looked up as written).
 */
export function systemPropertyName(name: string): string {
  return SYSTEM_PROPERTY_BY_LOWER_NAME.get(name.toLowerCase()) ?? name;
}
