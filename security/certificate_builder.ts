/**
 * Builds certificates from fixed templates: the root CA, the issuing edge CA (pathLen 0, name
 * constrained to the trust domain) and leaves. A leaf takes only a public key and names from its
 * caller; its extensions come from the template (cA=false, critical keyUsage, EKU, at most one
 * URI SAN), and its notAfter never exceeds its issuer's.
 */
import { derTlv } from "./keys.ts";
import { parseSpiffeId } from "./spiffe_id.ts";
import { SIGNING_ALGORITHM, x509 } from "./_x509.ts";

/** A CA that can sign: its certificate, its private key, and the chain above it. */
export interface CertificateIssuer {
  cert: x509.X509Certificate;
  privateKey: CryptoKey;
  /** Certificates between the issuer and its root, issuer excluded, root excluded. */
  intermediates: readonly x509.X509Certificate[];
}

/** What a leaf is for: an X.509-SVID (both), a TLS server, or a TLS client. */
export type LeafProfile = "svid" | "server" | "client";

/** Everything a caller may choose about a leaf. */
export interface LeafTemplate {
  profile: LeafProfile;
  commonName: string;
  publicKey: CryptoKey;
  lifetimeSeconds: number;
  now: Date;
  /** The single URI SAN: a SPIFFE ID in `trustDomain`. */
  spiffeId?: string;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  /** When set, the SPIFFE ID must be in this trust domain. */
  trustDomain?: string;
}

/** Leaves are back-dated this much to tolerate small clock differences between peers. */
export const BACKDATE_SECONDS = 60;

const MAX_COMMON_NAME = 64;

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f | 0x01; // positive, and never a leading zero byte
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function minDate(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

function maxDate(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}

function checkCommonName(commonName: string): void {
  if (commonName.length === 0 || commonName.length > MAX_COMMON_NAME) {
    throw new RangeError(
      `Cannot issue a certificate: commonName must be 1–${MAX_COMMON_NAME} characters, got ${commonName.length}`,
    );
  }
}

/**
 * The DER value of a NameConstraints extension permitting URIs of one host only. RFC 5280 says a
 * URI constraint is a host name, so `td.example` (not `spiffe://td.example`) — OpenSSL rejects
 * valid leaves otherwise.
 */
export function uriNameConstraints(host: string): Uint8Array<ArrayBuffer> {
  const uri = derTlv(0x86, new TextEncoder().encode(host)); // [6] IA5String uniformResourceIdentifier
  const subtree = derTlv(0x30, uri); // GeneralSubtree { base }
  const permitted = derTlv(0xa0, subtree); // [0] permittedSubtrees
  return derTlv(0x30, permitted);
}

/** OID of the NameConstraints extension. */
export const NAME_CONSTRAINTS_OID = "2.5.29.30";

async function keyIdentifiers(
  subjectKey: CryptoKey,
  issuerKey: CryptoKey | x509.PublicKey,
): Promise<x509.Extension[]> {
  return [
    await x509.SubjectKeyIdentifierExtension.create(subjectKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuerKey),
  ];
}

/** Options for {@linkcode createRootCa}. */
export interface RootCaOptions {
  commonName: string;
  lifetimeDays: number;
  now: Date;
  keys: CryptoKeyPair;
}

/** Creates a self-signed root CA (cA=true, keyCertSign and cRLSign, critical). */
export async function createRootCa(options: RootCaOptions): Promise<x509.X509Certificate> {
  checkCommonName(options.commonName);
  const notBefore = new Date(options.now.getTime() - BACKDATE_SECONDS * 1000);
  const name = [{ CN: [options.commonName] }, { O: ["ledge"] }];
  return await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore,
    notAfter: new Date(options.now.getTime() + options.lifetimeDays * 86400_000),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: options.keys.publicKey,
    signingKey: options.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      ...await keyIdentifiers(options.keys.publicKey, options.keys.publicKey),
    ],
  });
}

/** Options for {@linkcode createIssuingCa}. */
export interface IssuingCaOptions {
  commonName: string;
  lifetimeDays: number;
  now: Date;
  publicKey: CryptoKey;
  /** URIs of leaves are constrained to this host (the SPIFFE trust domain). */
  trustDomain: string;
}

/**
 * Creates the issuing edge CA under `root`: cA=true with pathLen 0, keyCertSign and cRLSign,
 * name-constrained to the trust domain, notAfter capped at the root's.
 */
export async function createIssuingCa(
  root: CertificateIssuer,
  options: IssuingCaOptions,
): Promise<x509.X509Certificate> {
  checkCommonName(options.commonName);
  const notAfter = minDate(
    new Date(options.now.getTime() + options.lifetimeDays * 86400_000),
    root.cert.notAfter,
  );
  const notBefore = maxDate(
    new Date(options.now.getTime() - BACKDATE_SECONDS * 1000),
    root.cert.notBefore,
  );
  return await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [options.commonName] }, { O: ["ledge"] }],
    issuer: root.cert.subjectName.toJSON(),
    notBefore: minDate(notBefore, notAfter),
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: options.publicKey,
    signingKey: root.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      new x509.Extension(NAME_CONSTRAINTS_OID, true, uriNameConstraints(options.trustDomain)),
      ...await keyIdentifiers(options.publicKey, root.cert.publicKey),
    ],
  });
}

const EKU: Record<LeafProfile, string[]> = {
  svid: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  server: [x509.ExtendedKeyUsage.serverAuth],
  client: [x509.ExtendedKeyUsage.clientAuth],
};

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Whether `name` is an IP address literal (v4 dotted quad or v6). */
export function isIpAddress(name: string): boolean {
  const v4 = IPV4.exec(name);
  if (v4) return v4.slice(1).every((part) => Number(part) <= 255);
  return name.includes(":") && /^[0-9a-fA-F:.]+$/.test(name);
}

/**
 * Issues a leaf certificate from the template.
 *
 * @throws {RangeError} for a bad common name or lifetime, {TypeError} for a SPIFFE ID that is
 * invalid or outside `trustDomain`.
 */
export async function issueLeaf(
  issuer: CertificateIssuer,
  template: LeafTemplate,
): Promise<x509.X509Certificate> {
  checkCommonName(template.commonName);
  if (!Number.isFinite(template.lifetimeSeconds) || template.lifetimeSeconds <= 0) {
    throw new RangeError(
      `Cannot issue a certificate: lifetimeSeconds must be positive, got ${template.lifetimeSeconds}`,
    );
  }
  const names: x509.JsonGeneralNames = [];
  if (template.spiffeId !== undefined) {
    const { trustDomain } = parseSpiffeId(template.spiffeId);
    if (template.trustDomain !== undefined && trustDomain !== template.trustDomain) {
      throw new TypeError(
        `Cannot issue a certificate: SPIFFE ID ${template.spiffeId} is outside trust domain ${template.trustDomain}`,
      );
    }
    names.push({ type: "url", value: template.spiffeId });
  }
  for (const dns of new Set(template.dnsNames ?? [])) names.push({ type: "dns", value: dns });
  for (const ip of new Set(template.ipAddresses ?? [])) names.push({ type: "ip", value: ip });

  const now = template.now.getTime();
  const notAfter = minDate(new Date(now + template.lifetimeSeconds * 1000), issuer.cert.notAfter);
  const notBefore = minDate(
    maxDate(new Date(now - BACKDATE_SECONDS * 1000), issuer.cert.notBefore),
    notAfter,
  );
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(EKU[template.profile], false),
    ...await keyIdentifiers(template.publicKey, issuer.cert.publicKey),
  ];
  if (names.length > 0) {
    // Critical when the subject is empty would be required; ours always has a CN, so not critical.
    extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  }
  return await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [template.commonName] }],
    issuer: issuer.cert.subjectName.toJSON(),
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: template.publicKey,
    signingKey: issuer.privateKey,
    extensions,
  });
}
