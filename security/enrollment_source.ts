/**
 * What the security manager asks of the enrollment groups (zero-touch enrollment): they live
 * above this layer (fleet/) and are handed in as an {@linkcode EnrollmentSource}.
 *
 * @module
 */
import type { Identity } from "./identity.ts";

/** The key a device id has under one enrollment group. */
export interface EnrollmentCandidate {
  /** The enrollment group. */
  group: string;
  /** The device's base64 SAS key under that group. */
  deviceKey: string;
  /** Registers a child edge device (true) or a leaf device. */
  edge: boolean;
}

/** The active enrollment groups, as the security manager asks them. */
export interface EnrollmentSource {
  /** The keys `deviceId` has under each enrollment group that accepts registrations now. */
  candidates(deviceId: string): EnrollmentCandidate[];
  /** Called after `identity` was registered through `group` (and persisted). */
  registered(identity: Identity, group: string): void;
}
