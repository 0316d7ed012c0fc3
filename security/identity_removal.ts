/**
 * What a removed identity takes with it, so the hub can close every connection it authenticated
 * as that identity: a module; a leaf device and its modules; a child edge device with its modules
 * and every identity whose key derives from it (security/derived_identities.ts).
 */
import type { Identity } from "./identity.ts";
import type { IdentityRegistry } from "./identity_registry.ts";

/** An identity as a verdict returns it: `via` names the child edge device a derived key comes from. */
export interface AuthenticatedIdentity {
  deviceId: string;
  moduleId?: string | undefined;
  generationId?: string | undefined;
  /** Set when the identity is not registered here but derives its key from child edge device `via`. */
  via?: string | undefined;
}

/** An identity removed from the registry (emitted after the removal is persisted). */
export interface IdentityRemoval {
  deviceId: string;
  /** Undefined when a device went (with all its modules). */
  moduleId?: string | undefined;
  kind: Identity["kind"];
  /** Whether a connection authenticated as `identity` belongs to what was removed. */
  covers(identity: AuthenticatedIdentity): boolean;
}

function same(a: string | undefined, b: string | undefined): boolean {
  return a?.toLowerCase() === b?.toLowerCase();
}

/** The removal event of `removed`. */
export function identityRemoval(removed: Identity): IdentityRemoval {
  const { deviceId, moduleId, kind } = removed;
  return {
    deviceId,
    ...(moduleId === undefined ? {} : { moduleId }),
    kind,
    covers(identity) {
      if (identity.via !== undefined) {
        // Derived identities go with the child edge device they derive from, and only with it.
        return moduleId === undefined && kind === "child-edge-device" &&
          same(identity.via, deviceId);
      }
      if (!same(identity.deviceId, deviceId)) return false;
      return moduleId === undefined || same(identity.moduleId, moduleId);
    },
  };
}

/**
 * Whether `identity` (as a verdict returned it) is still what the registry holds: registered with
 * the same generation, or derived from a child edge device that still is. O(1).
 */
export function isIdentityCurrent(
  registry: IdentityRegistry,
  identity: AuthenticatedIdentity,
): boolean {
  if (identity.via !== undefined) {
    const child = registry.get(identity.via);
    return child !== undefined && child.kind === "child-edge-device" &&
      child.generationId === identity.generationId;
  }
  const registered = registry.get(identity.deviceId, identity.moduleId);
  return registered !== undefined &&
    (identity.generationId === undefined || registered.generationId === identity.generationId);
}
