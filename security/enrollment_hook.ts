/**
 * Zero-touch enrollment, the security side: a device that is not registered, but whose SAS token
 * is signed with the key an enrollment group gives its id (`base64(HMAC-SHA256(base64decode(
 * groupKey), deviceId))`, as DPS symmetric-key group enrollment derives it), is registered on
 * that first connect. Its modules' keys derive from that device key as for any child edge
 * device, so a module that happens to connect first registers the device too.
 *
 * The enrollment groups live above this layer (fleet/); they are handed in as an
 * {@linkcode EnrollmentSource}.
 *
 * @module
 */
import { hmacSha256Base64 } from "../iothub/mod.ts";
import type { SecurityState } from "./_security_state.ts";
import type { EnrollmentSource } from "./enrollment_source.ts";
import { generateGenerationId, type Identity } from "./identity.ts";

export type { EnrollmentCandidate, EnrollmentSource } from "./enrollment_source.ts";

/** A registration a token proved: the identity to add and the group it came through. */
export interface Enrolled {
  /** The device identity to register. */
  device: Identity;
  /** What the connection acts as: the device, or its module (derived from it, `via` it). */
  acting: Identity & { via?: string };
  group: string;
}

/**
 * The registration `claimed`'s token proves under one of `source`'s groups, or undefined.
 * `check` verifies the token against candidate keys.
 */
export function enrollmentMatch(
  source: EnrollmentSource | undefined,
  claimed: { deviceId: string; moduleId?: string | undefined },
  check: (keys: string[]) => boolean,
  now: Date,
): Enrolled | undefined {
  if (source === undefined) return undefined;
  for (const candidate of source.candidates(claimed.deviceId)) {
    // Only an edge device has modules of its own.
    if (claimed.moduleId !== undefined && !candidate.edge) continue;
    const key = claimed.moduleId === undefined
      ? candidate.deviceKey
      : hmacSha256Base64(candidate.deviceKey, claimed.moduleId);
    if (!check([key])) continue;
    const generationId = generateGenerationId();
    const device: Identity = {
      deviceId: claimed.deviceId,
      kind: candidate.edge ? "child-edge-device" : "leaf-device",
      generationId,
      auth: { type: "sas", primaryKey: candidate.deviceKey, secondaryKey: candidate.deviceKey },
      createdAt: now.toISOString(),
    };
    const acting: Identity & { via?: string } = claimed.moduleId === undefined ? device : {
      ...device,
      moduleId: claimed.moduleId,
      kind: "module",
      auth: { type: "sas", primaryKey: key, secondaryKey: key },
      via: device.deviceId,
    };
    return { device, acting, group: candidate.group };
  }
  return undefined;
}

/**
 * Registers an enrolled device: visible in the registry at once (so the connection that proved
 * it stays current), persisted before the enrollment source hears of it. A device registered
 * meanwhile (two first connects at once) is left as it is.
 */
export function registerEnrolled(state: SecurityState, enrolled: Enrolled): void {
  const registry = state.registry;
  const { device, group } = enrolled;
  if (registry === undefined || registry.get(device.deviceId)) return;
  registry.add(device).then(() => {
    state.derived.invalidate();
    state.logger.info("device registered through its enrollment", {
      device: device.deviceId,
      group,
    });
    state.enrollments?.registered(device, group);
  }).catch((error) => {
    state.derived.invalidate();
    state.logger.error("cannot register an enrolled device", { device: device.deviceId, error });
  });
  // The registry holds it from now on (add() sets it before it persists).
  state.derived.invalidate();
}
