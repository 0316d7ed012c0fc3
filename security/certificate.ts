/**
 * An X.509 certificate read from DER: the fields and extensions ledge looks at (names, validity,
 * serial, key, basic constraints, key usage, EKU, SANs, name constraints), and signature checks:
 * synchronous by node:crypto ({@linkcode Certificate.isIssuedBy}, for the hub's client-certificate
 * check), and by node:crypto's key API for what ledge issues ({@linkcode Certificate.checkIssuedBy},
 * the start-up checks: node:crypto's X.509 code then stays unloaded, ~1 MB of RSS at idle).
 * Reading is strict DER; anything unexpected is an error naming it.
 */
import { Buffer } from "node:buffer";
import {
  createPublicKey,
  type KeyObject,
  verify,
  X509Certificate as NodeCertificate,
} from "node:crypto";
import { children, DerError, hex, oidString, readOne, readTime, TAG, type Tlv } from "./der.ts";

/** Extension OIDs ledge reads or writes. */
export const EXTENSION = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  nameConstraints: "2.5.29.30",
  authorityKeyIdentifier: "2.5.29.35",
  extendedKeyUsage: "2.5.29.37",
} as const;

/** Extended key usage OIDs. */
export const EKU_OID = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

/** Key usage bits (bit 0 first). */
export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

const ATTRIBUTE_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.5": "serialNumber",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "E",
};

/** One subject alternative name. */
export interface GeneralName {
  type: "dns" | "uri" | "ip" | "email" | "other";
  value: string;
}

/** One extension as it appears in the certificate. */
export interface Extension {
  oid: string;
  critical: boolean;
  /** The DER inside the extension's OCTET STRING. */
  value: Uint8Array;
}

function nameAttributes(name: Tlv): { type: string; value: string }[] {
  const attributes: { type: string; value: string }[] = [];
  for (const rdn of children(name.content)) {
    for (const pair of children(rdn.content)) {
      const [type, value] = children(pair.content);
      if (!type || type.tag !== TAG.oid || !value) throw new DerError("Cannot read a name");
      const oid = oidString(type.content);
      attributes.push({
        type: ATTRIBUTE_NAMES[oid] ?? oid,
        value: new TextDecoder().decode(value.content),
      });
    }
  }
  return attributes;
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  }
  return groups.join(":");
}

function generalNames(value: Uint8Array): GeneralName[] {
  return children(readOne(value, TAG.sequence).content).map((name) => {
    const text = new TextDecoder().decode(name.content);
    switch (name.tag) {
      case 0x81:
        return { type: "email", value: text };
      case 0x82:
        return { type: "dns", value: text };
      case 0x86:
        return { type: "uri", value: text };
      case 0x87:
        return { type: "ip", value: ipText(name.content) };
      default:
        return { type: "other", value: hex(name.content) };
    }
  });
}

/** A certificate, parsed. */
export class Certificate {
  /** The whole certificate. */
  readonly der: Uint8Array<ArrayBuffer>;
  /** The serial number, lower-case hex as encoded. */
  readonly serialNumber: string;
  /** The issuer's and the subject's Name, as encoded (compared byte for byte when chaining). */
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  /** `CN=..., O=...`, as people read it. */
  readonly issuer: string;
  readonly subject: string;
  readonly commonName: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  readonly extensions: readonly Extension[];
  #node: NodeCertificate | undefined;
  /** The signed part, the signature algorithm's OID and the signature (BIT STRING content). */
  readonly #tbs: Uint8Array<ArrayBuffer>;
  readonly #signatureOid: string;
  readonly #signature: Uint8Array;

  /** Parses `der`. @throws {DerError} naming what is not a certificate. */
  constructor(der: Uint8Array) {
    this.der = new Uint8Array(der);
    const [tbs, algorithm, signature] = children(readOne(this.der, TAG.sequence).content);
    if (!tbs || !algorithm || !signature || tbs.tag !== TAG.sequence) {
      throw new DerError(
        "Cannot read a certificate: expected tbsCertificate, algorithm, signature",
      );
    }
    this.#tbs = tbs.bytes as Uint8Array<ArrayBuffer>; // a view of this.der
    this.#signatureOid = oidOf(algorithm);
    this.#signature = signature.content.subarray(1);
    const fields = children(tbs.content);
    if (fields[0]?.tag === 0xa0) fields.shift(); // [0] version
    const [serial, _signature, issuer, validity, subject, spki, ...rest] = fields;
    if (!serial || !issuer || !validity || !subject || !spki || serial.tag !== TAG.integer) {
      throw new DerError("Cannot read a certificate: its tbsCertificate is incomplete");
    }
    this.serialNumber = hex(serial.content);
    this.issuerDer = issuer.bytes;
    this.subjectDer = subject.bytes;
    const issuerAttributes = nameAttributes(issuer);
    const subjectAttributes = nameAttributes(subject);
    this.issuer = issuerAttributes.map((a) => `${a.type}=${a.value}`).join(", ");
    this.subject = subjectAttributes.map((a) => `${a.type}=${a.value}`).join(", ");
    this.commonName = subjectAttributes.find((a) => a.type === "CN")?.value;
    const [notBefore, notAfter] = children(validity.content);
    if (!notBefore || !notAfter) throw new DerError("Cannot read a certificate's validity");
    this.notBefore = readTime(notBefore);
    this.notAfter = readTime(notAfter);
    this.spki = spki.bytes;
    const extensions = rest.find((field) => field.tag === 0xa3);
    this.extensions = extensions
      ? children(readOne(extensions.content, TAG.sequence).content).map((extension) => {
        const parts = children(extension.content);
        const critical = parts[1]?.tag === TAG.boolean && parts[1].content[0] !== 0;
        const value = parts[parts.length - 1];
        if (parts[0]?.tag !== TAG.oid || value?.tag !== TAG.octetString) {
          throw new DerError("Cannot read a certificate extension");
        }
        return { oid: oidString(parts[0].content), critical, value: value.content };
      })
      : [];
  }

  /** The extension `oid`, or undefined. */
  extension(oid: string): Extension | undefined {
    return this.extensions.find((extension) => extension.oid === oid);
  }

  /** Basic constraints: whether it is a CA, and its path length limit. */
  get basicConstraints(): { ca: boolean; pathLength: number | undefined } | undefined {
    const extension = this.extension(EXTENSION.basicConstraints);
    if (!extension) return undefined;
    const parts = children(readOne(extension.value, TAG.sequence).content);
    const ca = parts[0]?.tag === TAG.boolean && parts[0].content[0] !== 0;
    const length = parts.find((part) => part.tag === TAG.integer);
    return {
      ca,
      pathLength: length ? length.content.reduce((sum, byte) => sum * 256 + byte, 0) : undefined,
    };
  }

  /** The key usage bits set (bit numbers), or undefined without the extension. */
  get keyUsage(): number[] | undefined {
    const extension = this.extension(EXTENSION.keyUsage);
    if (!extension) return undefined;
    const bits = readOne(extension.value, TAG.bitString).content.subarray(1);
    const set: number[] = [];
    bits.forEach((byte, i) => {
      for (let bit = 0; bit < 8; bit++) if (byte & (0x80 >> bit)) set.push(i * 8 + bit);
    });
    return set;
  }

  /** The extended key usage OIDs, or undefined without the extension. */
  get extendedKeyUsage(): string[] | undefined {
    const extension = this.extension(EXTENSION.extendedKeyUsage);
    if (!extension) return undefined;
    return children(readOne(extension.value, TAG.sequence).content).map((usage) =>
      oidString(usage.content)
    );
  }

  /** The subject alternative names (empty without the extension). */
  get subjectAltNames(): GeneralName[] {
    const extension = this.extension(EXTENSION.subjectAltName);
    return extension ? generalNames(extension.value) : [];
  }

  /** Whether `issuer`'s key signed this certificate (and their names chain). */
  isIssuedBy(issuer: Certificate): boolean {
    if (!sameBytes(this.issuerDer, issuer.subjectDer)) return false;
    try {
      return this.#nodeCertificate().verify(issuer.#nodeCertificate().publicKey);
    } catch {
      return false;
    }
  }

  /** Whether it names itself as issuer and its own key signed it. */
  isSelfSigned(): boolean {
    return this.isIssuedBy(this);
  }

  /**
   * {@linkcode isIssuedBy} without node:crypto's X.509 code when the signature is ECDSA P-256
   * with SHA-256 (all ledge issues); any other algorithm or key is checked as isIssuedBy does.
   */
  checkIssuedBy(issuer: Certificate): boolean {
    if (!sameBytes(this.issuerDer, issuer.subjectDer)) return false;
    if (this.#signatureOid !== ECDSA_WITH_SHA256) return this.isIssuedBy(issuer);
    const key = p256Key(issuer.spki);
    if (!key) return this.isIssuedBy(issuer);
    const signature = rawEcdsaSignature(this.#signature);
    if (!signature) return false;
    return verify("sha256", this.#tbs, { key, dsaEncoding: "ieee-p1363" }, signature);
  }

  /** {@linkcode isSelfSigned} through {@linkcode checkIssuedBy}. */
  checkSelfSigned(): boolean {
    return this.checkIssuedBy(this);
  }

  #nodeCertificate(): NodeCertificate {
    this.#node ??= new NodeCertificate(Buffer.from(this.der));
    return this.#node;
  }
}

const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";

/** The P-256 public key of a SubjectPublicKeyInfo; undefined for any other key. */
function p256Key(spki: Uint8Array): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    const p256 = key.asymmetricKeyType === "ec" &&
      key.asymmetricKeyDetails?.namedCurve === "prime256v1";
    return p256 ? key : undefined;
  } catch {
    return undefined;
  }
}

function oidOf(algorithm: Tlv): string {
  const identifier = children(algorithm.content)[0];
  return identifier?.tag === TAG.oid ? oidString(identifier.content) : "";
}

/**
 * A DER ECDSA-Sig-Value (SEQUENCE of INTEGER r, s) in IEEE P1363 form: r and s as 32 bytes
 * each; undefined when it is not one for P-256.
 */
function rawEcdsaSignature(der: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  try {
    const parts = children(readOne(der, TAG.sequence).content);
    if (parts.length !== 2 || parts.some((part) => part.tag !== TAG.integer)) return undefined;
    const raw = new Uint8Array(64);
    for (const [i, part] of parts.entries()) {
      let value = part.content;
      while (value.length > 32 && value[0] === 0) value = value.subarray(1);
      if (value.length > 32) return undefined;
      raw.set(value, 32 * (i + 1) - value.length);
    }
    return raw;
  } catch {
    return undefined;
  }
}

/** Whether two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Parses one DER certificate. @throws {DerError} */
export function parseCertificate(der: Uint8Array): Certificate {
  return new Certificate(der);
}
