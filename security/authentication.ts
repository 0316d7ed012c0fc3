/**
 * Authentication of the hub's clients: SAS tokens (of registered identities, or of identities
 * whose keys derive from a child edge device's) and TLS client certificates, and whether an
 * identity a verdict returned is still current. Synchronous, so the hub decides inside its
 * connect path.
 */
import { checkSasToken, identityLabel, type IdentityRef } from "../iothub/mod.ts";
import type { SecurityState } from "./_security_state.ts";
import { checkClientCertificate } from "./client_certificate.ts";
import type { Derivation } from "./derived_identities.ts";
import type { Identity } from "./identity.ts";
import { type AuthenticatedIdentity, isIdentityCurrent } from "./identity_removal.ts";
import { spiffeIdOf } from "./module_apis.ts";
import type { AuthVerdict } from "./security_manager_api.ts";
import { enrollmentMatch, registerEnrolled } from "./enrollment_hook.ts";

function checkToken(state: SecurityState, token: string, claimed: IdentityRef, keys: string[]) {
  const { config } = state;
  return checkSasToken(token, {
    hosts: [config.device.hostname, config.device.iothub_hostname],
    deviceId: claimed.deviceId,
    moduleId: claimed.moduleId,
    keys,
    nowSeconds: Math.floor(state.now().getTime() / 1000),
    maxLifetimeSeconds: config.security.max_sas_token_lifetime_seconds,
  });
}

/** Tries the candidate derivations of an unregistered identity, the last one that matched first. */
function verifyDerived(
  state: SecurityState,
  token: string,
  claimed: IdentityRef,
  candidates: Derivation[],
): AuthVerdict {
  const name = identityLabel(claimed);
  let verdict: { ok: true } | { ok: false; reason: string } = {
    ok: false,
    reason: `unknown identity ${name}`,
  };
  for (const candidate of candidates) {
    verdict = checkToken(state, token, claimed, candidate.keys);
    if (verdict.ok) {
      state.derived.matched(candidate);
      return { ok: true, identity: { ...candidate.identity, via: candidate.via } };
    }
  }
  // One candidate whose key signed the token, refused for another reason (expired, say): that
  // reason. Otherwise the identity is simply not known here, which is what an operator must read
  // (a removed device retrying is not "a signature that does not match").
  return candidates.length === 1 && verdict.reason !== "signature does not match" ? verdict : {
    ok: false,
    reason:
      `${name} is not registered and its token matches no key derived from a child edge device`,
  };
}

/** Checks a SAS token presented by a client claiming `claimed`. */
export function verifySasToken(
  state: SecurityState,
  token: string,
  claimed: IdentityRef,
): AuthVerdict {
  const identity = state.registry?.get(claimed.deviceId, claimed.moduleId);
  if (!identity) {
    // Perhaps a device registering through an enrollment group on its first connect: tried
    // first, as it costs a few HMACs per group where a derived key costs one per child.
    const enrolled = enrollmentMatch(
      state.enrollments,
      claimed,
      (keys) => checkToken(state, token, claimed, keys).ok,
      state.now(),
    );
    if (enrolled !== undefined) {
      registerEnrolled(state, enrolled);
      return { ok: true, identity: enrolled.acting };
    }
    // Perhaps an identity below a child edge device, its key derived from the child's.
    const candidates = state.derived.candidates(claimed);
    if (candidates.length === 0) {
      return { ok: false, reason: `unknown identity ${identityLabel(claimed)}` };
    }
    return verifyDerived(state, token, claimed, candidates);
  }
  if (identity.auth.type !== "sas") {
    return {
      ok: false,
      reason: `identity ${identityLabel(claimed)} does not authenticate with SAS`,
    };
  }
  const verdict = checkToken(state, token, claimed, [
    identity.auth.primaryKey,
    identity.auth.secondaryKey,
  ]);
  return verdict.ok ? { ok: true, identity } : verdict;
}

/** Checks a TLS client certificate chain (DER, leaf first) presented for `claimed`. */
export function verifyClientCertificate(
  state: SecurityState,
  chain: readonly Uint8Array[],
  claimed: IdentityRef,
): AuthVerdict {
  const identity = state.registry?.get(claimed.deviceId, claimed.moduleId);
  if (!identity) return { ok: false, reason: `unknown identity ${identityLabel(claimed)}` };
  const ca = state.ca;
  if (!ca) return { ok: false, reason: "the security component is not started" };
  const issuers = [ca.issuer.cert, ...(ca.previousEdgeCa ? [ca.previousEdgeCa] : [])];
  const verdict = checkClientCertificate(chain, {
    identity,
    spiffeId: spiffeIdOf(state.config, identity.deviceId, identity.moduleId),
    issuers: issuers.map((cert) => cert.der),
    now: state.now(),
    // Certificates of an earlier generation of this id are refused; an operator's own CA may
    // have issued a device's certificate before it was registered, so devices under it are not.
    ...(identity.moduleId !== undefined || !ca.own ? { generationStart: createdAt(identity) } : {}),
  });
  return verdict.ok ? { ok: true, identity } : verdict;
}

function createdAt(identity: Identity): Date {
  return new Date(identity.createdAt);
}

/** Whether `identity`, as a verdict returned it, is still registered (or derivable) as it was. */
export function identityIsCurrent(state: SecurityState, identity: AuthenticatedIdentity): boolean {
  return state.registry !== undefined && isIdentityCurrent(state.registry, identity);
}
