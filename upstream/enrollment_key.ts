/**
 * Zero-touch enrollment, the device side: a device configured with its enrollment group's key
 * (`[upstream] enrollment_key`) and no key of its own derives its key as DPS symmetric-key group
 * enrollment does, `base64(HMAC-SHA256(base64decode(groupKey), deviceId))`. The parent derives
 * the same key from the group and registers the device when it first connects with it.
 *
 * @module
 */
import type { Config } from "../core/config.ts";
import { hmacSha256Base64 } from "../iothub/mod.ts";

/** The device key a group key gives `deviceId`. */
export function enrollmentDeviceKey(groupKeyBase64: string, deviceId: string): string {
  return hmacSha256Base64(groupKeyBase64, deviceId);
}

/**
 * `config` with `upstream.shared_access_key` derived from `upstream.enrollment_key` when that is
 * set (and the key is empty); otherwise `config` itself.
 */
export function withEnrollmentKey(config: Config): Config {
  const upstream = config.upstream;
  if (upstream.enrollment_key === "" || upstream.shared_access_key !== "") return config;
  return {
    ...config,
    upstream: {
      ...upstream,
      shared_access_key: enrollmentDeviceKey(upstream.enrollment_key, config.device.id),
    },
  };
}
