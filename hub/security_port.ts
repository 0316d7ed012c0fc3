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
}
