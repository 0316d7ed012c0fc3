/**
 * The part of the security manager the hub uses. The real `SecurityManager` (security/mod.ts)
 * satisfies it structurally; naming only what is used keeps the hub's tests honest about it.
 */
import type { IdentityRef } from "../iothub/mod.ts";

/** An identity as the hub needs to know it. */
export interface HubIdentity {
  deviceId: string;
  moduleId?: string | undefined;
  generationId?: string | undefined;
  /** Set when the identity is not registered here but derives its key from child edge device `via`. */
  via?: string | undefined;
}

/** An identity removed from the registry, with everything whose connections must close. */
export interface HubIdentityRemoval {
  deviceId: string;
  /** Undefined when a device went (with its modules). */
  moduleId?: string | undefined;
  /** Whether a connection authenticated as `identity` belongs to what was removed. */
  covers(identity: HubIdentity): boolean;
}

/** Outcome of checking a credential. */
export type HubAuthVerdict = { ok: true; identity: HubIdentity } | { ok: false; reason: string };

/** What the hub asks of the security manager. */
export interface HubSecurity {
  verifySasToken(token: string, claimed: IdentityRef): HubAuthVerdict;
  verifyClientCertificate(
    chain: readonly Uint8Array[],
    claimed: IdentityRef,
  ): HubAuthVerdict;
  serverTls(): { certPem: string; keyPem: string; chainPem: string };
  onServerTlsChange(listener: () => void): () => void;
  trustBundlePem(): string;
  /** Called synchronously after an identity is removed; returns the unsubscribe function. */
  onIdentityRemoved(listener: (removal: HubIdentityRemoval) => void): () => void;
  /** O(1): false once `identity` (as a verdict returned it) was removed or re-created. */
  isIdentityCurrent(identity: HubIdentity): boolean;
}
