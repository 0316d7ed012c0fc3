/**
 * ECDSA P-256 keys as node:crypto KeyObjects: generation, PEM import (PKCS#8, or SEC1
 * "EC PRIVATE KEY" as openssl writes) and export. node:crypto, not WebCrypto: the daemon loads
 * node:crypto anyway (TLS listeners, HMAC), and WebCrypto's code would add ~1.5 MB of RSS at idle.
 */
import { Buffer } from "node:buffer";
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import type { Certificate } from "./certificate.ts";

/** A private key with its public half. */
export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Generates a P-256 key pair. */
export function generateKeyPair(): KeyPair {
  return generateKeyPairSync("ec", { namedCurve: "prime256v1" });
}

/** The unencrypted PKCS#8 DER of a private key. */
export function exportPkcs8(key: KeyObject): Uint8Array<ArrayBuffer> {
  return new Uint8Array(key.export({ type: "pkcs8", format: "der" }));
}

/** The SubjectPublicKeyInfo DER of a public key. */
export function exportSpki(key: KeyObject): Uint8Array<ArrayBuffer> {
  return new Uint8Array(key.export({ type: "spki", format: "der" }));
}

/** The PKCS#8 PEM ("PRIVATE KEY") of a private key. */
export function exportPrivateKeyPem(key: KeyObject): string {
  return pemEncode(exportPkcs8(key), "PRIVATE KEY");
}

/** PEM-encodes DER bytes under `label`, with a trailing newline. */
export function pemEncode(der: Uint8Array | ArrayBuffer, label: string): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** The blocks of a PEM text, in order. */
export function pemBlocks(text: string): { label: string; der: Uint8Array<ArrayBuffer> }[] {
  const blocks: { label: string; der: Uint8Array<ArrayBuffer> }[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const base64 = match[2]!.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
      throw new TypeError(`Cannot read PEM: the ${match[1]} block is not valid base64`);
    }
    blocks.push({ label: match[1]!, der: Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)) });
  }
  return blocks;
}

// DER prefix of PKCS#8 wrapping for a P-256 key: version 0, AlgorithmIdentifier
// {id-ecPublicKey, prime256v1}, then an OCTET STRING holding the SEC1 ECPrivateKey.
const PKCS8_P256_ALGORITHM = [
  0x02,
  0x01,
  0x00,
  0x30,
  0x13,
  0x06,
  0x07,
  0x2a,
  0x86,
  0x48,
  0xce,
  0x3d,
  0x02,
  0x01,
  0x06,
  0x08,
  0x2a,
  0x86,
  0x48,
  0xce,
  0x3d,
  0x03,
  0x01,
  0x07,
];
const P256_OID = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** Encodes one DER TLV. */
export function derTlv(
  tag: number,
  content: readonly number[] | Uint8Array,
): Uint8Array<ArrayBuffer> {
  return new Uint8Array([tag, ...derLength(content.length), ...content]);
}

function containsSequence(haystack: Uint8Array, needle: readonly number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function sec1ToPkcs8(sec1: Uint8Array): Uint8Array<ArrayBuffer> {
  if (!containsSequence(sec1, P256_OID)) {
    throw new TypeError("Cannot import key: only ECDSA P-256 (prime256v1) keys are supported");
  }
  return derTlv(0x30, [...PKCS8_P256_ALGORITHM, ...derTlv(0x04, sec1)]);
}

/**
 * Imports the first private key of a PEM text (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY")
 * and derives its public key.
 *
 * @throws {TypeError} when the text holds no P-256 private key.
 */
export function importPrivateKeyPem(pem: string): KeyPair {
  const block = pemBlocks(pem).find((b) =>
    b.label === "PRIVATE KEY" || b.label === "EC PRIVATE KEY"
  );
  if (!block) {
    const encrypted = /ENCRYPTED PRIVATE KEY/.test(pem)
      ? " (encrypted keys are not supported)"
      : "";
    throw new TypeError(`Cannot import key: no PRIVATE KEY or EC PRIVATE KEY block${encrypted}`);
  }
  const pkcs8 = block.label === "EC PRIVATE KEY" ? sec1ToPkcs8(block.der) : block.der;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
  } catch (error) {
    throw notP256((error as Error).message ?? String(error), error);
  }
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (privateKey.asymmetricKeyType !== "ec" || curve !== "prime256v1") {
    throw notP256(`${privateKey.asymmetricKeyType} ${curve ?? ""}`.trim());
  }
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

function notP256(reason: string, cause?: unknown): TypeError {
  return new TypeError(`Cannot import key: not an ECDSA P-256 private key (${reason})`, { cause });
}

/** Whether `publicKey` is the key certified by `cert`. */
export function keyMatchesCertificate(publicKey: KeyObject, cert: Certificate): boolean {
  const spki = exportSpki(publicKey);
  const certified = cert.spki;
  return spki.length === certified.length && spki.every((byte, i) => byte === certified[i]);
}
