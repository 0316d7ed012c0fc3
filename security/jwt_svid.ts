/**
 * JWT-SVIDs: ES256 tokens with `sub` = SPIFFE ID, a required `aud` and a short `exp`, signed by a
 * dedicated key (`<state>/pki/jwt_signer.key.pem`) that rotates with the edge CA. The JWKS
 * carries the current key and, until the next pruning, the previous one; entries have a `kid`
 * (RFC 7638 thumbprint) and `use: "jwt-svid"`. jose signs and verifies, loaded at the first JWT-SVID
 * call: the daemon does not hold it while nobody asks for one.
 */
import { createHash, type KeyObject } from "node:crypto";
import type { JWK } from "jose";
import { exportPrivateKeyPem, generateKeyPair } from "./keys.ts";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { fileExists, PkiFileError, readPrivateKey } from "./pki_files.ts";
import { parseSpiffeId } from "./spiffe_id.ts";

/** Lifetime of a JWT-SVID: short, as the standard asks. */
export const JWT_SVID_LIFETIME_SECONDS = 300;

/** A key that signs JWT-SVIDs. */
export interface JwtSigner {
  kid: string;
  privateKey: KeyObject | undefined;
  /** The public JWK as published in the bundle (`kid`, `use`, `alg`). */
  publicJwk: JWK;
}

/** The current signer and the previous one's public key (kept through an overlap). */
export interface JwtSigners {
  current: JwtSigner;
  previous: JwtSigner | undefined;
}

const KEY_FILE = "jwt_signer.key.pem";
const PREVIOUS_FILE = "previous_jwt_signer.jwk.json";

/** The RFC 7638 SHA-256 thumbprint of an EC public JWK (base64url). */
export function ecJwkThumbprint(
  jwk: { crv: string; kty: string; x: string; y: string },
): string {
  // The required members in lexicographic order, no whitespace (RFC 7638 sec. 3.2).
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash("sha256").update(canonical).digest("base64url");
}

function signerFrom(privateKey: KeyObject, publicKey: KeyObject): JwtSigner {
  const { kty, crv, x, y } = publicKey.export({ format: "jwk" });
  const bare = { kty: kty!, crv: crv!, x: x!, y: y! };
  const kid = ecJwkThumbprint(bare);
  return { kid, privateKey, publicJwk: { ...bare, kid, use: "jwt-svid", alg: "ES256" } };
}

async function createSigner(pkiDir: string): Promise<JwtSigner> {
  const keys = generateKeyPair();
  await writeFileAtomic(`${pkiDir}/${KEY_FILE}`, exportPrivateKeyPem(keys.privateKey));
  const loaded = await readPrivateKey(`${pkiDir}/${KEY_FILE}`);
  return signerFrom(loaded.privateKey, loaded.publicKey);
}

/** Loads the JWT signers from `pkiDir`, creating the key on first start. */
export async function loadOrCreateJwtSigners(pkiDir: string): Promise<JwtSigners> {
  const keyPath = `${pkiDir}/${KEY_FILE}`;
  let current: JwtSigner;
  if (await fileExists(keyPath)) {
    const keys = await readPrivateKey(keyPath);
    current = signerFrom(keys.privateKey, keys.publicKey);
  } else {
    current = await createSigner(pkiDir);
  }
  const previousPath = `${pkiDir}/${PREVIOUS_FILE}`;
  let previous: JwtSigner | undefined;
  if (await fileExists(previousPath)) {
    try {
      const jwk = JSON.parse(await Deno.readTextFile(previousPath)) as JWK;
      if (typeof jwk.kid !== "string" || jwk.kty !== "EC") throw new Error("not an EC JWK");
      previous = { kid: jwk.kid, privateKey: undefined, publicJwk: jwk };
    } catch (error) {
      throw new PkiFileError(previousPath, (error as Error).message, { cause: error });
    }
  }
  return { current, previous };
}

/** Replaces the signing key; the old public key stays in the bundle as `previous`. */
export async function rotateJwtSigner(pkiDir: string, signers: JwtSigners): Promise<void> {
  await writeFileAtomic(
    `${pkiDir}/${PREVIOUS_FILE}`,
    JSON.stringify(signers.current.publicJwk) + "\n",
    { mode: 0o600 },
  );
  signers.previous = signers.current;
  signers.current = await createSigner(pkiDir);
}

/** Forgets the previous signer (its overlap is over). */
export async function dropPreviousJwtSigner(pkiDir: string, signers: JwtSigners) {
  signers.previous = undefined;
  await Deno.remove(`${pkiDir}/${PREVIOUS_FILE}`).catch(() => {});
}

/** The JWKS of a trust domain, as FetchJWTBundles sends it. */
export function jwtBundle(signers: JwtSigners): { keys: JWK[] } {
  return {
    keys: [signers.current.publicJwk, ...(signers.previous ? [signers.previous.publicJwk] : [])],
  };
}

/** Options for {@linkcode signJwtSvid}. */
export interface SignJwtOptions {
  spiffeId: string;
  audience: readonly string[];
  now: Date;
  /** Defaults to {@linkcode JWT_SVID_LIFETIME_SECONDS}. */
  lifetimeSeconds?: number;
}

/**
 * Signs a JWT-SVID.
 *
 * @throws {TypeError} when `audience` is empty or holds an empty string.
 */
export async function signJwtSvid(signer: JwtSigner, options: SignJwtOptions): Promise<string> {
  if (options.audience.length === 0 || options.audience.some((a) => a === "")) {
    throw new TypeError("Cannot sign a JWT-SVID: audience must name at least one non-empty value");
  }
  if (!signer.privateKey) throw new Error("Cannot sign a JWT-SVID: the signer has no private key");
  const issuedAt = Math.floor(options.now.getTime() / 1000);
  const { SignJWT } = await import("jose");
  return await new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: signer.kid, typ: "JWT" })
    .setSubject(options.spiffeId)
    .setAudience([...options.audience])
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (options.lifetimeSeconds ?? JWT_SVID_LIFETIME_SECONDS))
    // jose takes the KeyObject as it is: it imports it into WebCrypto once and caches that.
    .sign(signer.privateKey);
}

/** A validated JWT-SVID. */
export interface ValidatedJwtSvid {
  spiffeId: string;
  claims: Record<string, unknown>;
}

/**
 * Validates a JWT-SVID against the bundle: ES256 only (never HS* or none), signature, `exp`,
 * `aud` containing `audience`, and a SPIFFE ID as `sub`.
 *
 * @throws {Error} saying why the token is not valid.
 */
export async function validateJwtSvid(
  token: string,
  options: { signers: JwtSigners; audience: string; now: Date },
): Promise<ValidatedJwtSvid> {
  if (options.audience === "") throw new TypeError("Cannot validate a JWT-SVID: audience is empty");
  const { createLocalJWKSet, jwtVerify } = await import("jose");
  // jose only picks keys whose `use` is absent or "sig"; SPIFFE's is "jwt-svid".
  const keys = createLocalJWKSet({
    keys: jwtBundle(options.signers).keys.map(({ use: _use, ...key }) => key),
  });
  const { payload } = await jwtVerify(token, keys, {
    algorithms: ["ES256"],
    audience: options.audience,
    currentDate: options.now,
    requiredClaims: ["sub", "exp", "aud"],
  });
  parseSpiffeId(payload.sub!);
  return { spiffeId: payload.sub!, claims: payload as Record<string, unknown> };
}
