/**
 * Who a message, a twin or a connection belongs to: a device, or a module of a device. IoT Hub
 * compares ids case-insensitively, so maps are keyed by {@linkcode identityKey}; people read
 * {@linkcode identityLabel}.
 */

/** A device (`moduleId` absent) or a module of a device. */
export interface IdentityRef {
  readonly deviceId: string;
  readonly moduleId?: string | undefined;
}

/**
 * `device` or `device/module`, as written: for logs, messages and MQTT client ids.
 *
 * @example
 * ```ts
 * identityLabel({ deviceId: "edge1", moduleId: "Sensor" }); // "edge1/Sensor"
 * ```
 */
export function identityLabel(ref: IdentityRef): string {
  return ref.moduleId === undefined ? ref.deviceId : `${ref.deviceId}/${ref.moduleId}`;
}

/**
 * Just the reference of `identity` (a session's, a head's): `{ deviceId }` or
 * `{ deviceId, moduleId }`, never a `moduleId` key holding undefined, nothing else.
 */
export function identityRef({ deviceId, moduleId }: IdentityRef): IdentityRef {
  return moduleId === undefined ? { deviceId } : { deviceId, moduleId };
}

/**
 * The identity's key in maps and stores: the lower-cased {@linkcode identityLabel}.
 *
 * @example
 * ```ts
 * identityKey({ deviceId: "Edge1", moduleId: "Sensor" }); // "edge1/sensor"
 * ```
 */
export function identityKey(ref: IdentityRef): string {
  return identityLabel(ref).toLowerCase();
}
