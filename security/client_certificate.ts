/**
 * Checks a TLS client certificate presented for an identity: either issued by ledge's edge CA
 * (current or previous) for that identity, or matching the identity's registered thumbprint.
 * Synchronous (node:crypto), so the hub can decide inside its authenticate callback.
 */
import { createHash } from "node:crypto";
import type { Identity } from "./identity.ts";
import { Certificate, EKU_OID } from "./certificate.ts";
import { BACKDATE_SECONDS } from "./certificate_builder.ts";

/** The decision: ok, or why not. */
export type CertificateCheck = { ok: true } | { ok: false; reason: string };

/** What a certificate is checked against. */
export interface ClientCertificateExpectation {
  identity: Identity;
  /** The SPIFFE ID ledge gives this identity, when it has one. */
  spiffeId: string | undefined;
  /** DER of the edge CAs whose leaves are accepted (current, and previous during overlap). */
  issuers: readonly Uint8Array[];
  now: Date;
  /**
   * When set, a CA-issued certificate whose notBefore is earlier than this (ledge backdates its
   * leaves by {@linkcode BACKDATE_SECONDS}) was issued to an earlier generation of the identity,
   * removed since, and is refused. Exact to the second for ledge's own leaves.
   */
  generationStart?: Date;
}

function fingerprintHex(der: Uint8Array, algorithm: "sha1" | "sha256"): string {
  return createHash(algorithm).update(der).digest("hex");
}

/**
 * Checks `chain` (DER, leaf first) against `expected`. A peer's bytes: anything malformed is a
 * refusal, never an exception.
 */
export function checkClientCertificate(
  chain: readonly Uint8Array[],
  expected: ClientCertificateExpectation,
): CertificateCheck {
  if (expected.identity.auth.type === "none") {
    return { ok: false, reason: "the identity accepts no authentication" };
  }
  const leafDer = chain[0];
  if (!leafDer) return { ok: false, reason: "no client certificate" };
  try {
    return checkLeaf(new Certificate(leafDer), expected);
  } catch {
    return { ok: false, reason: "the client certificate is not valid DER" };
  }
}

function checkLeaf(parsed: Certificate, expected: ClientCertificateExpectation): CertificateCheck {
  const { identity } = expected;
  const leafDer = parsed.der;
  const now = expected.now.getTime();
  if (now < parsed.notBefore.getTime()) return { ok: false, reason: "certificate not yet valid" };
  if (now > parsed.notAfter.getTime()) return { ok: false, reason: "certificate expired" };

  if (identity.auth.type === "x509-thumbprint") {
    const { primaryThumbprint, secondaryThumbprint } = identity.auth;
    const registered = [primaryThumbprint, secondaryThumbprint].filter((t) => t !== undefined)
      .map((t) => t.toLowerCase());
    const presented = [fingerprintHex(leafDer, "sha1"), fingerprintHex(leafDer, "sha256")];
    if (presented.some((print) => registered.includes(print))) return { ok: true };
    // Fall through: a certificate ledge issued for the identity is accepted too.
  }

  if (parsed.basicConstraints?.ca) {
    return { ok: false, reason: "a CA certificate cannot be a client certificate" };
  }
  const eku = parsed.extendedKeyUsage;
  if (eku && !eku.includes(EKU_OID.clientAuth)) {
    return { ok: false, reason: "the certificate is not for client authentication" };
  }
  const issued = expected.issuers.some((issuerDer) =>
    parsed.isIssuedBy(new Certificate(issuerDer))
  );
  if (!issued) return { ok: false, reason: "not issued by this device's CA" };
  if (expected.generationStart !== undefined) {
    const earliest = Math.floor(expected.generationStart.getTime() / 1000) - BACKDATE_SECONDS;
    if (Math.floor(parsed.notBefore.getTime() / 1000) < earliest) {
      return {
        ok: false,
        reason: "the certificate was issued before the identity was (re-)created",
      };
    }
  }

  const uris = parsed.subjectAltNames.filter((name) => name.type === "uri").map((name) =>
    name.value
  );
  if (uris.length > 0) {
    return uris.length === 1 && uris[0] === expected.spiffeId
      ? { ok: true }
      : { ok: false, reason: `the certificate names ${uris.join(", ")}, not this identity` };
  }
  const commonName = parsed.commonName;
  const wanted = identity.moduleId ?? identity.deviceId;
  return commonName?.toLowerCase() === wanted.toLowerCase()
    ? { ok: true }
    : { ok: false, reason: `the certificate's CN "${commonName}" is not ${wanted}` };
}
