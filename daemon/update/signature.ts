/**
 * Signed update artifacts. An artifact (a release executable) travels with a small JSON
 * descriptor: its version, target, sha256 and size, signed (WebCrypto: ECDSA P-256 with SHA-256,
 * or Ed25519) over a fixed text of those four facts. A device takes an update only when the
 * file's sha256 and size match and the signature is by one of its `[update] trusted_keys`.
 */
import { z } from "zod";
import { lazySchema } from "../../core/lazy_schema.ts";

/** The descriptor's format tag, also the first line of the signed text. */
export const DESCRIPTOR_FORMAT = "ledge-update/1";

/** What a signed artifact says about itself (`<file>.sig`, JSON). */
export const ArtifactDescriptor = lazySchema(() =>
  z.strictObject({
    format: z.literal(DESCRIPTOR_FORMAT),
    version: z.string().regex(/^[A-Za-z0-9.+-]{1,64}$/, { error: "expected a version" }),
    target: z.string().regex(/^[a-z0-9_]+-[a-z0-9_-]+$/, { error: "expected a target triple" }),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: "expected 64 hex digits" }),
    size: z.number().int().positive(),
    algorithm: z.enum(["ECDSA-P256-SHA256", "Ed25519"]),
    /** sha256 of the signing key's SPKI, first 16 hex digits. */
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    /** base64 */
    signature: z.string().min(1),
  })
);
/** What a signed artifact says about itself. */
export type ArtifactDescriptor = z.infer<typeof ArtifactDescriptor>;

/** The facts a signature covers. */
export type ArtifactFacts = Pick<ArtifactDescriptor, "version" | "target" | "sha256" | "size">;

type Algorithm = ArtifactDescriptor["algorithm"];

const ALGORITHMS: Record<
  Algorithm,
  { import: EcKeyImportParams | Algorithm; sign: EcdsaParams | { name: "Ed25519" } }
> = {
  "ECDSA-P256-SHA256": {
    import: { name: "ECDSA", namedCurve: "P-256" },
    sign: { name: "ECDSA", hash: "SHA-256" },
  },
  "Ed25519": { import: "Ed25519", sign: { name: "Ed25519" } },
};

function signedText(facts: ArtifactFacts): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    `${DESCRIPTOR_FORMAT}\n${facts.version}\n${facts.target}\n${facts.sha256}\n${facts.size}\n`,
  );
}

function base64(bytes: ArrayBuffer | Uint8Array): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

function unbase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function pem(label: string, der: ArrayBuffer): string {
  const lines = base64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function pemBody(text: string, label: string): Uint8Array<ArrayBuffer> {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(
    text,
  );
  if (!match) throw new TypeError(`Cannot read the key: no "${label}" PEM block`);
  return unbase64(match[1]!.replace(/\s+/g, ""));
}

async function keyIdOf(spki: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", spki));
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A public key a device trusts. */
export interface TrustedKey {
  keyId: string;
  algorithm: Algorithm;
  key: CryptoKey;
}

/**
 * Reads a public key (PEM, SPKI) of either algorithm.
 *
 * @throws {TypeError} naming what is wrong with it.
 */
export async function importPublicKey(pemText: string): Promise<TrustedKey> {
  const spki = pemBody(pemText, "PUBLIC KEY");
  for (const algorithm of Object.keys(ALGORITHMS) as Algorithm[]) {
    try {
      const key = await crypto.subtle.importKey("spki", spki, ALGORITHMS[algorithm].import, true, [
        "verify",
      ]);
      return { keyId: await keyIdOf(spki), algorithm, key };
    } catch { /* the other algorithm */ }
  }
  throw new TypeError("Cannot read the key: not an ECDSA P-256 or Ed25519 public key");
}

/** A key pair, as PEM text. */
export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

/** Makes a signing key pair (PKCS#8 and SPKI PEM). */
export async function generateSigningKey(algorithm: Algorithm): Promise<KeyPairPem> {
  const pair = await crypto.subtle.generateKey(ALGORITHMS[algorithm].import, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  return {
    privateKeyPem: pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
    publicKeyPem: pem("PUBLIC KEY", spki.buffer),
    keyId: await keyIdOf(spki),
  };
}

/**
 * Signs `facts` with a private key (PEM, PKCS#8, either algorithm).
 *
 * @throws {TypeError} when the key cannot be read.
 */
export async function signArtifact(
  facts: ArtifactFacts,
  privateKeyPem: string,
): Promise<ArtifactDescriptor> {
  const pkcs8 = pemBody(privateKeyPem, "PRIVATE KEY");
  for (const algorithm of Object.keys(ALGORITHMS) as Algorithm[]) {
    let key: CryptoKey;
    try {
      key = await crypto.subtle.importKey("pkcs8", pkcs8, ALGORITHMS[algorithm].import, true, [
        "sign",
      ]);
    } catch {
      continue;
    }
    const { d: _private, ...publicJwk } = await crypto.subtle.exportKey("jwk", key);
    publicJwk.key_ops = ["verify"];
    const publicKey = await crypto.subtle.importKey(
      "jwk",
      publicJwk,
      ALGORITHMS[algorithm].import,
      true,
      ["verify"],
    );
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
    const signature = await crypto.subtle.sign(
      ALGORITHMS[algorithm].sign,
      key,
      signedText(facts),
    );
    return {
      format: DESCRIPTOR_FORMAT,
      ...facts,
      algorithm,
      keyId: await keyIdOf(spki),
      signature: base64(signature),
    };
  }
  throw new TypeError("Cannot read the signing key: not an ECDSA P-256 or Ed25519 private key");
}

/**
 * Checks that `descriptor` is signed by one of `trusted`.
 *
 * @returns undefined when it is; else why not.
 */
export async function signatureProblem(
  descriptor: ArtifactDescriptor,
  trusted: readonly TrustedKey[],
): Promise<string | undefined> {
  if (trusted.length === 0) return "no trusted keys are configured ([update] trusted_keys)";
  const candidates = trusted.filter((t) =>
    t.keyId === descriptor.keyId && t.algorithm === descriptor.algorithm
  );
  if (candidates.length === 0) {
    return `it is signed by key ${descriptor.keyId}, which is not one of [update] trusted_keys`;
  }
  let signature: Uint8Array<ArrayBuffer>;
  try {
    signature = unbase64(descriptor.signature);
  } catch {
    return "its signature is not base64";
  }
  for (const candidate of candidates) {
    const valid = await crypto.subtle.verify(
      ALGORITHMS[descriptor.algorithm].sign,
      candidate.key,
      signature,
      signedText(descriptor),
    );
    if (valid) return undefined;
  }
  return `its signature does not verify with trusted key ${descriptor.keyId}`;
}
