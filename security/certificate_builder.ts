/**
 * Builds certificates from fixed templates: the root CA, the issuing edge CA (pathLen 0, name
 * constrained to the trust domain) and leaves. A leaf takes only a public key and names from its
 * caller; its extensions come from the template (cA=false, critical keyUsage, EKU, at most one
 * URI SAN), and its notAfter never exceeds its issuer's.
 */
import { createHash, type KeyObject, sign } from "node:crypto";
import { Certificate, EKU_OID, EXTENSION, KEY_USAGE } from "./certificate.ts";
import {
  bitString,
  children,
  contextConstructed,
  contextPrimitive,
  namedBits,
  octetString,
  oid,
  readOne,
  sequence,
  smallInteger,
  TAG,
  time,
  tlv,
  TRUE,
  unsignedInteger,
  utf8String,
} from "./der.ts";
import { exportSpki } from "./keys.ts";
import { parseSpiffeId } from "./spiffe_id.ts";

/** A CA that can sign: its certificate, its private key, and the chain above it. */
export interface CertificateIssuer {
  cert: Certificate;
  privateKey: KeyObject;
  /** Certificates between the issuer and its root, issuer excluded, root excluded. */
  intermediates: readonly Certificate[];
}

/** What a leaf is for: an X.509-SVID (both), a TLS server, or a TLS client. */
export type LeafProfile = "svid" | "server" | "client";

/** Everything a caller may choose about a leaf. */
export interface LeafTemplate {
  profile: LeafProfile;
  commonName: string;
  publicKey: KeyObject;
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

function randomSerial(): Uint8Array<ArrayBuffer> {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f | 0x01; // positive, and never a leading zero byte
  return unsignedInteger(bytes);
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
      `Cannot issue a certificate: commonName must be 1\u2013${MAX_COMMON_NAME} characters, got ${commonName.length}`,
    );
  }
}

/**
 * The DER value of a NameConstraints extension permitting URIs of one host only. RFC 5280 says a
 * URI constraint is a host name, so `td.example` (not `spiffe://td.example`) - OpenSSL rejects
 * valid leaves otherwise.
 */
export function uriNameConstraints(host: string): Uint8Array<ArrayBuffer> {
  const uri = tlv(contextPrimitive(6), new TextEncoder().encode(host)); // [6] IA5String URI
  const subtree = sequence(uri); // GeneralSubtree { base }
  const permitted = tlv(contextConstructed(0), subtree); // [0] permittedSubtrees
  return sequence(permitted);
}

/** OID of the NameConstraints extension. */
export const NAME_CONSTRAINTS_OID = EXTENSION.nameConstraints;

const ECDSA_WITH_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));

function extension(oidText: string, critical: boolean, value: Uint8Array): Uint8Array {
  return sequence(oid(oidText), ...(critical ? [TRUE] : []), octetString(value));
}

/** The key bits of a SubjectPublicKeyInfo, as RFC 5280's key identifiers hash them. */
function keyBits(spki: Uint8Array): Uint8Array<ArrayBuffer> {
  const [, bits] = children(readOne(spki, TAG.sequence).content);
  if (!bits || bits.tag !== TAG.bitString) throw new TypeError("Cannot read a public key");
  return bits.content.slice(1);
}

function keyIdentifier(spki: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha1").update(keyBits(spki)).digest());
}

/** A Name of `CN` (and `O`) as UTF8Strings. */
function name(commonName: string, organization?: string): Uint8Array {
  const attribute = (type: string, value: string) =>
    tlv(TAG.set, sequence(oid(type), utf8String(value)));
  return sequence(
    attribute("2.5.4.3", commonName),
    ...(organization === undefined ? [] : [attribute("2.5.4.10", organization)]),
  );
}

/** An ECDSA signature in IEEE P1363 form (r||s), in DER (SEQUENCE of two INTEGERs). */
function signatureDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}

/** What a certificate is made of. */
interface CertificateParts {
  issuerName: Uint8Array;
  subjectName: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  signingKey: KeyObject;
  /** The issuer's key identifier (the subject's own for a self-signed certificate). */
  authorityKeyId?: Uint8Array;
  extensions: readonly Uint8Array[];
}

/** Builds, signs and parses a v3 certificate. */
function signCertificate(parts: CertificateParts): Certificate {
  const spki = exportSpki(parts.publicKey);
  const subjectKeyId = keyIdentifier(spki);
  const extensions = [
    ...parts.extensions,
    extension(EXTENSION.subjectKeyIdentifier, false, octetString(subjectKeyId)),
    extension(
      EXTENSION.authorityKeyIdentifier,
      false,
      sequence(tlv(contextPrimitive(0), parts.authorityKeyId ?? subjectKeyId)),
    ),
  ];
  const tbs = sequence(
    tlv(contextConstructed(0), smallInteger(2)), // v3
    randomSerial(),
    ECDSA_WITH_SHA256,
    parts.issuerName,
    sequence(time(parts.notBefore), time(parts.notAfter)),
    parts.subjectName,
    spki,
    tlv(contextConstructed(3), sequence(...extensions)),
  );
  const signature = sign("sha256", tbs, { key: parts.signingKey, dsaEncoding: "ieee-p1363" });
  return new Certificate(sequence(tbs, ECDSA_WITH_SHA256, bitString(signatureDer(signature))));
}

/** The issuer's key identifier: its own extension's, else computed from its key. */
function authorityKeyIdOf(issuer: Certificate): Uint8Array {
  const own = issuer.extension(EXTENSION.subjectKeyIdentifier);
  return own ? readOne(own.value, TAG.octetString).content : keyIdentifier(issuer.spki);
}

function caExtensions(pathLength: number | undefined): Uint8Array[] {
  return [
    extension(
      EXTENSION.basicConstraints,
      true,
      sequence(TRUE, ...(pathLength === undefined ? [] : [smallInteger(pathLength)])),
    ),
    extension(EXTENSION.keyUsage, true, namedBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
  ];
}

/** Options for {@linkcode createRootCa}. */
export interface RootCaOptions {
  commonName: string;
  lifetimeDays: number;
  now: Date;
  keys: { privateKey: KeyObject; publicKey: KeyObject };
}

/** Creates a self-signed root CA (cA=true, keyCertSign and cRLSign, critical). */
export function createRootCa(options: RootCaOptions): Certificate {
  checkCommonName(options.commonName);
  const subject = name(options.commonName, "ledge");
  return signCertificate({
    issuerName: subject,
    subjectName: subject,
    notBefore: new Date(options.now.getTime() - BACKDATE_SECONDS * 1000),
    notAfter: new Date(options.now.getTime() + options.lifetimeDays * 86400_000),
    publicKey: options.keys.publicKey,
    signingKey: options.keys.privateKey,
    extensions: caExtensions(undefined),
  });
}

/** Options for {@linkcode createIssuingCa}. */
export interface IssuingCaOptions {
  commonName: string;
  lifetimeDays: number;
  now: Date;
  publicKey: KeyObject;
  /** URIs of leaves are constrained to this host (the SPIFFE trust domain). */
  trustDomain: string;
}

/**
 * Creates the issuing edge CA under `root`: cA=true with pathLen 0, keyCertSign and cRLSign,
 * name-constrained to the trust domain, notAfter capped at the root's.
 */
export function createIssuingCa(
  root: CertificateIssuer,
  options: IssuingCaOptions,
): Certificate {
  checkCommonName(options.commonName);
  const notAfter = minDate(
    new Date(options.now.getTime() + options.lifetimeDays * 86400_000),
    root.cert.notAfter,
  );
  const notBefore = maxDate(
    new Date(options.now.getTime() - BACKDATE_SECONDS * 1000),
    root.cert.notBefore,
  );
  return signCertificate({
    issuerName: root.cert.subjectDer,
    subjectName: name(options.commonName, "ledge"),
    notBefore: minDate(notBefore, notAfter),
    notAfter,
    publicKey: options.publicKey,
    signingKey: root.privateKey,
    authorityKeyId: authorityKeyIdOf(root.cert),
    extensions: [
      ...caExtensions(0),
      extension(NAME_CONSTRAINTS_OID, true, uriNameConstraints(options.trustDomain)),
    ],
  });
}

const EKU: Record<LeafProfile, string[]> = {
  svid: [EKU_OID.serverAuth, EKU_OID.clientAuth],
  server: [EKU_OID.serverAuth],
  client: [EKU_OID.clientAuth],
};

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Whether `name` is an IP address literal (v4 dotted quad or v6). */
export function isIpAddress(name: string): boolean {
  const v4 = IPV4.exec(name);
  if (v4) return v4.slice(1).every((part) => Number(part) <= 255);
  return name.includes(":") && /^[0-9a-fA-F:.]+$/.test(name);
}

/** The 4 or 16 bytes of an IP address literal. */
function ipBytes(address: string): Uint8Array {
  if (!address.includes(":")) return new Uint8Array(address.split(".").map(Number));
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const groups = (text: string | undefined) => (text ? text.split(":") : []);
  const left = groups(head);
  const right = groups(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) {
    throw new TypeError(`Cannot encode IP address "${address}"`);
  }
  const all = [...left, ...Array(missing).fill("0"), ...right].map((group) => parseInt(group, 16));
  if (all.some((group) => !(group >= 0 && group <= 0xffff))) {
    throw new TypeError(`Cannot encode IP address "${address}"`);
  }
  return new Uint8Array(all.flatMap((group) => [group >> 8, group & 0xff]));
}

/** The SubjectAltName value of a leaf: the SPIFFE ID, DNS names, IP addresses. */
function subjectAltNames(template: LeafTemplate): Uint8Array | undefined {
  const names: Uint8Array[] = [];
  if (template.spiffeId !== undefined) {
    const { trustDomain } = parseSpiffeId(template.spiffeId);
    if (template.trustDomain !== undefined && trustDomain !== template.trustDomain) {
      throw new TypeError(
        `Cannot issue a certificate: SPIFFE ID ${template.spiffeId} is outside trust domain ${template.trustDomain}`,
      );
    }
    names.push(tlv(contextPrimitive(6), new TextEncoder().encode(template.spiffeId)));
  }
  for (const dns of new Set(template.dnsNames ?? [])) {
    names.push(tlv(contextPrimitive(2), new TextEncoder().encode(dns)));
  }
  for (const ip of new Set(template.ipAddresses ?? [])) {
    names.push(tlv(contextPrimitive(7), ipBytes(ip)));
  }
  return names.length === 0 ? undefined : sequence(...names);
}

/**
 * Issues a leaf certificate from the template.
 *
 * @throws {RangeError} for a bad common name or lifetime, {TypeError} for a SPIFFE ID that is
 * invalid or outside `trustDomain`.
 */
export function issueLeaf(
  issuer: CertificateIssuer,
  template: LeafTemplate,
): Certificate {
  checkCommonName(template.commonName);
  if (!Number.isFinite(template.lifetimeSeconds) || template.lifetimeSeconds <= 0) {
    throw new RangeError(
      `Cannot issue a certificate: lifetimeSeconds must be positive, got ${template.lifetimeSeconds}`,
    );
  }
  const altNames = subjectAltNames(template);
  const now = template.now.getTime();
  const notAfter = minDate(new Date(now + template.lifetimeSeconds * 1000), issuer.cert.notAfter);
  const notBefore = minDate(
    maxDate(new Date(now - BACKDATE_SECONDS * 1000), issuer.cert.notBefore),
    notAfter,
  );
  return signCertificate({
    issuerName: issuer.cert.subjectDer,
    subjectName: name(template.commonName),
    notBefore,
    notAfter,
    publicKey: template.publicKey,
    signingKey: issuer.privateKey,
    authorityKeyId: authorityKeyIdOf(issuer.cert),
    extensions: [
      extension(EXTENSION.basicConstraints, true, sequence()),
      extension(EXTENSION.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])),
      extension(EXTENSION.extendedKeyUsage, false, sequence(...EKU[template.profile].map(oid))),
      // Critical only when the subject is empty; ours always has a CN.
      ...(altNames ? [extension(EXTENSION.subjectAltName, false, altNames)] : []),
    ],
  });
}
