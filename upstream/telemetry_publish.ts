/**
 * A queued message as the PUBLISH that forwards it: the sender's telemetry topic with a property
 * bag holding the application properties and the system properties a device may set.
 */
import { formatPropertyBag, type IdentityRef, SYSTEM_KEYS } from "../iothub/mod.ts";
import type { StoredMessage } from "../store/mod.ts";

/** System properties the parent stamps itself from the connection; never sent in the bag. */
const STAMPED_BY_PARENT = new Set(["connectionDeviceId", "connectionModuleId"]);

const BAG_KEY_OF: ReadonlyMap<string, string> = new Map(
  Object.entries(SYSTEM_KEYS)
    .filter(([, name]) => !STAMPED_BY_PARENT.has(name))
    .map(([key, name]) => [name, key]),
);

/** Topic and payload of one forwarded message. */
export interface TelemetryPublish {
  topic: string;
  payload: Uint8Array;
}

/**
 * The bag of a forwarded message: application properties as they are, then `$.mid`, `$.cid`,
 * `$.ct`, `$.ce`, `$.ctime`, `$.on`, ... for the system properties that have a bag key.
 * `connectionDeviceId`/`connectionModuleId` are carried by the connection's identity instead.
 */
export function upstreamBag(message: StoredMessage): string {
  const entries: [string, string][] = Object.entries(message.appProperties);
  for (const [name, value] of Object.entries(message.systemProperties)) {
    const key = BAG_KEY_OF.get(name);
    if (key !== undefined) entries.push([key, value]);
  }
  return formatPropertyBag(entries);
}

/**
 * The PUBLISH forwarding `message` as `identity`: `devices/{d}[/modules/{m}]/messages/events/{bag}`.
 *
 * @example
 * ```ts
 * telemetryPublish({ body, appProperties: { a: "1" }, systemProperties: { messageId: "m1" } },
 *   { deviceId: "child", moduleId: "sensor" }).topic;
 * // "devices/child/modules/sensor/messages/events/a=1&%24.mid=m1"
 * ```
 */
export function telemetryPublish(
  message: StoredMessage,
  identity: IdentityRef,
): TelemetryPublish {
  const scope = identity.moduleId === undefined
    ? `devices/${identity.deviceId}`
    : `devices/${identity.deviceId}/modules/${identity.moduleId}`;
  return { topic: `${scope}/messages/events/${upstreamBag(message)}`, payload: message.body };
}

/** Bytes the parent counts against its message size limit: body plus topic bag. */
export function publishSizeBytes(publish: TelemetryPublish): number {
  return publish.payload.byteLength + publish.topic.length;
}
