/**
 * Keys of the identities below this edge device, derived from its own key on the parent.
 *
 * The scheme (ledge's, documented in upstream/mod.ts) follows DPS group enrollment keys:
 * a derived key is `base64(HMAC-SHA256(base64decode(parentKey), utf8(name)))`.
 * - a module `m` of this device: `name = m`;
 * - a device `d` below this device (a leaf device, or a child edge device whose messages this
 *   hub forwards): `name = "devices/" + d`;
 * - a module `m` of such a device `d`: derived again from `d`'s key with `name = m`.
 *
 * Module ids cannot contain `/`, so a module key never equals a device key. The parent holds
 * this device's key, so it can compute every key of the subtree without storing one; this device
 * holds nothing but its own key. Ids are used as given (the parent must derive with the same
 * spelling the child sends).
 */
import { hmacSha256Base64 } from "./sas_token.ts";
import type { IdentityRef } from "./identity_ref.ts";

/**
 * HMAC-SHA256 of `name` with the base64 key `parentKeyBase64`, as base64.
 *
 * @example
 * ```ts
 * deriveKey(deviceKey, "sensor"); // the key of module "sensor" of that device
 * ```
 */
export function deriveKey(parentKeyBase64: string, name: string): string {
  return hmacSha256Base64(parentKeyBase64, name);
}

/**
 * The SAS key of `identity` on the parent, derived from `deviceKeyBase64`, the key of
 * `ownDeviceId` (this edge device).
 */
export function derivedSasKey(
  identity: IdentityRef,
  options: { ownDeviceId: string; deviceKeyBase64: string },
): string {
  const own = identity.deviceId.toLowerCase() === options.ownDeviceId.toLowerCase();
  const deviceKey = own
    ? options.deviceKeyBase64
    : deriveKey(options.deviceKeyBase64, `devices/${identity.deviceId}`);
  return identity.moduleId === undefined ? deviceKey : deriveKey(deviceKey, identity.moduleId);
}
