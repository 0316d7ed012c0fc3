/**
 * IoT Hub shared access signatures: `SharedAccessSignature sr=...&sig=...&se=...[&skn=...]`, where
 * `sig = base64(HMAC-SHA256(base64decode(key), sr + "\n" + se))` over `sr` exactly as it appears
 * in the token. Pure: the caller passes the keys and the time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import type { IdentityRef } from "./identity_ref.ts";

/** `encodeURIComponent` that also escapes `!'()*`, as the Azure IoT SDKs do. */
export function encodeUriComponentStrict(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** HMAC-SHA256 of `data` with a base64 key, as base64: the workload API's `/sign`. */
export function hmacSha256Base64(keyBase64: string, data: Uint8Array | string): string {
  return createHmac("sha256", Buffer.from(keyBase64, "base64")).update(data).digest("base64");
}

/** The fields of a SAS token. */
export interface SasToken {
  /** `sr` as it appears in the token (URL-encoded); the signed string starts with it. */
  resourceRaw: string;
  /** `sr` URL-decoded once: `host/devices/<id>[/modules/<id>]`, ids still encoded. */
  resource: string;
  /** The base64 signature. */
  signature: string;
  /** Expiry, Unix seconds. */
  expiry: number;
  keyName: string | undefined;
}

/**
 * Parses a SAS token.
 *
 * @throws {TypeError} naming the missing or malformed field.
 */
export function parseSasToken(token: string): SasToken {
  const prefix = "SharedAccessSignature ";
  if (!token.startsWith(prefix)) {
    throw new TypeError(
      'Cannot parse SAS token: expected it to start with "SharedAccessSignature "',
    );
  }
  const fields = new Map<string, string>();
  for (const pair of token.slice(prefix.length).split("&")) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new TypeError(`Cannot parse SAS token: malformed field "${pair}"`);
    const name = pair.slice(0, at);
    if (fields.has(name)) throw new TypeError(`Cannot parse SAS token: field ${name} repeated`);
    fields.set(name, pair.slice(at + 1));
  }
  const need = (name: string): string => {
    const value = fields.get(name);
    if (!value) throw new TypeError(`Cannot parse SAS token: field ${name} is missing`);
    return value;
  };
  const resourceRaw = need("sr");
  const se = need("se");
  if (!/^\d{1,12}$/.test(se)) {
    throw new TypeError(`Cannot parse SAS token: se must be Unix seconds, got "${se}"`);
  }
  let resource: string;
  let signature: string;
  try {
    resource = decodeURIComponent(resourceRaw);
    signature = decodeURIComponent(need("sig"));
  } catch (error) {
    if (error instanceof TypeError) throw error;
    throw new TypeError("Cannot parse SAS token: sr or sig is not valid URL encoding");
  }
  return { resourceRaw, resource, signature, expiry: Number(se), keyName: fields.get("skn") };
}

/** Builds a SAS token for `resource` (host/devices/id[/modules/id], unencoded ids). */
export function createSasToken(
  resource: IdentityRef & { host: string },
  options: { keyBase64: string; expiry: number },
): string {
  const path = `${resource.host}/devices/${encodeUriComponentStrict(resource.deviceId)}${
    resource.moduleId ? `/modules/${encodeUriComponentStrict(resource.moduleId)}` : ""
  }`;
  const sr = encodeUriComponentStrict(path);
  const sig = hmacSha256Base64(options.keyBase64, `${sr}\n${options.expiry}`);
  return `SharedAccessSignature sr=${sr}&sig=${encodeUriComponentStrict(sig)}&se=${options.expiry}`;
}

/** What {@linkcode checkSasToken} needs to decide. */
export interface SasExpectation {
  /** Host names the audience may start with (compared case-insensitively). */
  hosts: readonly string[];
  deviceId: string;
  moduleId?: string | undefined;
  /** The identity's keys (base64); the signature must match one. */
  keys: readonly string[];
  nowSeconds: number;
  /** Refuse a token whose expiry is further than this from now (a bearer token that lives for years is a standing key). */
  maxLifetimeSeconds?: number | undefined;
}

/** The decision about a token: ok, or why not (never the key or signature). */
export type SasCheck = { ok: true } | { ok: false; reason: string };

function audienceMatches(resource: string, expected: SasExpectation): boolean {
  const parts = resource.split("/");
  let ids: string[];
  try {
    ids = parts.map((part) => decodeURIComponent(part).toLowerCase());
  } catch {
    return false;
  }
  const [host, devices, deviceId, modules, moduleId, ...rest] = ids;
  if (rest.length > 0 || devices !== "devices" || host === undefined) return false;
  if (!expected.hosts.some((h) => h.toLowerCase() === host)) return false;
  if (deviceId !== expected.deviceId.toLowerCase()) return false;
  if (expected.moduleId === undefined) return modules === undefined;
  return modules === "modules" && moduleId === expected.moduleId.toLowerCase();
}

/** Checks a token's audience, expiry and signature (constant-time against each key). */
export function checkSasToken(token: string, expected: SasExpectation): SasCheck {
  let parsed: SasToken;
  try {
    parsed = parseSasToken(token);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (parsed.keyName !== undefined) {
    return { ok: false, reason: "shared access policy tokens (skn) are not accepted" };
  }
  if (!audienceMatches(parsed.resource, expected)) {
    return { ok: false, reason: `audience ${parsed.resource} does not name this identity` };
  }
  if (parsed.expiry <= expected.nowSeconds) {
    return {
      ok: false,
      reason: `token expired at ${new Date(parsed.expiry * 1000).toISOString()}`,
    };
  }
  const maxLifetime = expected.maxLifetimeSeconds;
  if (maxLifetime !== undefined && parsed.expiry - expected.nowSeconds > maxLifetime) {
    return {
      ok: false,
      reason: `token expires at ${new Date(parsed.expiry * 1000).toISOString()}, more than ` +
        `${maxLifetime} s from now (security.max_sas_token_lifetime_seconds)`,
    };
  }
  const presented = Buffer.from(parsed.signature, "base64");
  const signed = `${parsed.resourceRaw}\n${parsed.expiry}`;
  let match = false;
  for (const key of expected.keys) {
    const wanted = createHmac("sha256", Buffer.from(key, "base64")).update(signed).digest();
    // Compare every key, always the full length, so timing reveals nothing.
    if (presented.length === wanted.length && timingSafeEqual(presented, wanted)) match = true;
  }
  return match ? { ok: true } : { ok: false, reason: "signature does not match" };
}
