/**
 * The identities the upstream connector acts as on the parent: this edge device, its modules, and
 * the devices below it (leaf devices, child edge devices and their modules). One MQTT connection
 * per identity, as IoT Hub requires.
 */
import type { IdentityRef } from "../iothub/mod.ts";
import type { StoredMessage } from "../store/mod.ts";

/**
 * The identity a message is forwarded as: the module or device that sent it into this hub
 * (`connectionModuleId` / `connectionDeviceId`), so the parent stamps the same sender as this hub
 * did. A message with no sender (made by ledge itself) goes as this device.
 *
 * @example
 * ```ts
 * senderIdentity({ body: new Uint8Array(), appProperties: {},
 *   systemProperties: { connectionDeviceId: "edge1", connectionModuleId: "sensor" } }, "edge1");
 * // { deviceId: "edge1", moduleId: "sensor" }
 * ```
 */
export function senderIdentity(message: StoredMessage, ownDeviceId: string): IdentityRef {
  const { connectionDeviceId, connectionModuleId } = message.systemProperties;
  const deviceId = connectionDeviceId || ownDeviceId;
  return connectionModuleId ? { deviceId, moduleId: connectionModuleId } : { deviceId };
}
