/**
 * Identities below a child edge device, authenticated without being registered here: their SAS
 * keys derive from the child's registered key (the scheme of iothub/derived_key.ts).
 *
 * - module `m` of a registered child edge device `e`: `HMAC-SHA256(key(e), "m")`;
 * - a device `d` below `e` (a leaf device of `e`, or an edge device nested deeper, whose traffic
 *   `e` forwards in `d`'s name): `HMAC-SHA256(key(e), "devices/d")`;
 * - module `m` of such a device `d`: `HMAC-SHA256(key(d), "m")`.
 *
 * Depth is bounded by construction: each ledge re-derives the keys of everything it forwards from
 * its own key, so whatever arrives from a child is at most two derivations from that child's
 * registered key, however deep the tree below it. An unregistered device id could sit below any
 * child, so the first lookup derives one candidate per child edge device (O(children)); the
 * candidates are cached (bounded, least recently used dropped first) with the one that matched
 * tried first, so later lookups are O(1). Any change of the registry empties the cache, and a
 * cached derivation is used only while its child is registered with the same generation (checked
 * at every lookup), so a removed child's whole subtree stops authenticating at once, even while
 * the removal is still being written.
 */
import { hmacSha256Base64, type IdentityRef } from "../iothub/mod.ts";
import type { Identity } from "./identity.ts";
import type { IdentityRegistry } from "./identity_registry.ts";

/** One way a claimed identity may be derived: the identity to act as and its candidate keys. */
export interface Derivation {
  identity: Identity;
  /** Base64 SAS keys, one per key of the child edge device it derives from. */
  keys: string[];
  /** The registered child edge device it derives from. */
  via: string;
}

/** Candidate derivations of unregistered identities, cached. */
export interface DerivedIdentities {
  /** The derivations `deviceId[/moduleId]` may authenticate with, the last one that matched first. */
  candidates(claimed: IdentityRef): Derivation[];
  /** Records that `derivation` matched, so it is tried first next time. */
  matched(derivation: Derivation): void;
  /** Forgets everything (call on every registry change). */
  invalidate(): void;
  /** Number of cached identities (for tests and metrics). */
  size(): number;
}

/** Options of {@linkcode createDerivedIdentities}. */
export interface DerivedIdentitiesOptions {
  /** Identities cached at most (default 10,000). */
  maxCached?: number;
}

function sasKeys(identity: Identity): string[] {
  return identity.auth.type === "sas" ? [identity.auth.primaryKey, identity.auth.secondaryKey] : [];
}

function cacheKey(deviceId: string, moduleId: string | undefined): string {
  return (moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`).toLowerCase();
}

/** What `claimed` derives to: from its registered device, or from each child edge device. */
function derivations(
  registry: IdentityRegistry | undefined,
  edgeChildren: () => Identity[],
  claimed: IdentityRef,
): Derivation[] {
  const device = registry?.get(claimed.deviceId);
  if (device) {
    // A registered device: only a child edge device's modules derive from it.
    if (claimed.moduleId === undefined || device.kind !== "child-edge-device") return [];
    return [derivation(device, sasKeys(device), claimed)];
  }
  return edgeChildren().map((child) =>
    derivation(
      child,
      sasKeys(child).map((key) => hmacSha256Base64(key, `devices/${claimed.deviceId}`)),
      claimed,
    )
  );
}

/** The identity `claimed` has when derived from `from`'s device keys. */
function derivation(from: Identity, deviceKeys: string[], claimed: IdentityRef): Derivation {
  const keys = claimed.moduleId === undefined
    ? deviceKeys
    : deviceKeys.map((key) => hmacSha256Base64(key, claimed.moduleId!));
  const identity: Identity = {
    deviceId: claimed.deviceId,
    ...(claimed.moduleId === undefined ? {} : { moduleId: claimed.moduleId }),
    kind: claimed.moduleId === undefined ? "leaf-device" : "module",
    // Stable while the child stays registered: a re-registered child gives new identities.
    generationId: from.generationId,
    auth: { type: "sas", primaryKey: keys[0]!, secondaryKey: keys[1] ?? keys[0]! },
    createdAt: from.createdAt,
  };
  return { identity, keys, via: from.deviceId };
}

/**
 * Creates the resolver over `registry` (read at each cache miss; undefined before the registry
 * is open).
 *
 * @example
 * ```ts
 * const derived = createDerivedIdentities(() => manager.registry);
 * for (const candidate of derived.candidates({ deviceId: "child", moduleId: "sensor" })) { ... }
 * ```
 */
export function createDerivedIdentities(
  registry: () => IdentityRegistry | undefined,
  options: DerivedIdentitiesOptions = {},
): DerivedIdentities {
  const maxCached = options.maxCached ?? 10_000;
  const cache = new Map<string, Derivation[]>();
  let children: Identity[] | undefined;

  function edgeChildren(): Identity[] {
    children ??= (registry()?.list() ?? []).filter((identity) =>
      identity.kind === "child-edge-device" && identity.moduleId === undefined &&
      identity.auth.type === "sas"
    );
    return children;
  }

  /** A cached derivation holds only while its child is registered with the same generation. */
  function stillDerivable(derivation: Derivation): boolean {
    const child = registry()?.get(derivation.via);
    return child?.kind === "child-edge-device" &&
      child.generationId === derivation.identity.generationId;
  }

  return {
    candidates(claimed) {
      const key = cacheKey(claimed.deviceId, claimed.moduleId);
      const hit = cache.get(key);
      cache.delete(key);
      if (hit && hit.every(stillDerivable)) {
        cache.set(key, hit);
        return hit;
      }
      const computed = derivations(registry(), edgeChildren, claimed).filter(stillDerivable);
      if (computed.length === 0) return computed;
      cache.set(key, computed);
      while (cache.size > maxCached) cache.delete(cache.keys().next().value!);
      return computed;
    },
    matched(derivation) {
      const key = cacheKey(derivation.identity.deviceId, derivation.identity.moduleId);
      const list = cache.get(key);
      const index = list?.indexOf(derivation) ?? -1;
      if (list && index > 0) {
        list.splice(index, 1);
        list.unshift(derivation);
      }
    },
    invalidate() {
      cache.clear();
      children = undefined;
    },
    size: () => cache.size,
  };
}
