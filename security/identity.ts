/**
 * Identities: the edge device, its modules, and leaf devices, each with a generation id and
 * an authentication type. SAS keys live only here and in the registry file (0600); what leaves
 * the process goes through {@linkcode publicIdentity}.
 */
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";

/** A device or module id as IoT Hub accepts it; `.` and `..` are refused (they name paths). */
export const IdentityId = lazySchema(() =>
  z.string({ error: "expected a string" }).regex(
    /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/,
    { error: "expected 1\u2013128 characters of A-Z a-z 0-9 - . % _ * ? ! ( ) , : = @ $ '" },
  ).refine((id) => id !== "." && id !== "..", { error: 'expected an id other than "." or ".."' })
);
/** A device or module id. */
export type IdentityId = z.infer<typeof IdentityId>;

const base64Key = lazySchema(() =>
  z.string().regex(/^[A-Za-z0-9+/]{20,}={0,2}$/, {
    error: "expected a base64 key",
  })
);
const thumbprint = lazySchema(() =>
  z.string().regex(/^([0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/, {
    error: "expected a SHA-1 (40) or SHA-256 (64) hex thumbprint",
  })
);

/** How an identity proves itself. */
export const IdentityAuth = lazySchema(() =>
  z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("sas"), primaryKey: base64Key, secondaryKey: base64Key }),
    z.strictObject({ type: z.literal("x509-ca") }),
    z.strictObject({
      type: z.literal("x509-thumbprint"),
      primaryThumbprint: thumbprint,
      secondaryThumbprint: thumbprint.optional(),
    }),
    z.strictObject({ type: z.literal("none") }),
  ])
);
/** How an identity proves itself. */
export type IdentityAuth = z.infer<typeof IdentityAuth>;
/** The authentication types: sas | x509-ca | x509-thumbprint | none. */
export type AuthType = IdentityAuth["type"];

/** One identity of the registry. */
export const Identity = lazySchema(() =>
  z.strictObject({
    deviceId: IdentityId,
    moduleId: IdentityId.optional(),
    /** `child-edge-device`: a ledge below this one (`ledge identity add-device --edge`). */
    kind: z.enum(["edge-device", "module", "leaf-device", "child-edge-device"]),
    /** Changes whenever the identity is re-created. */
    generationId: z.string().min(1),
    auth: IdentityAuth,
    createdAt: z.string(),
  })
);
/** One identity of the registry. */
export type Identity = z.infer<typeof Identity>;

/** An identity without its secrets: what the API returns and logs may show. */
export interface PublicIdentity {
  deviceId: string;
  moduleId?: string;
  kind: Identity["kind"];
  generationId: string;
  authType: AuthType;
  createdAt: string;
}

/** Strips the keys from an identity. */
export function publicIdentity(identity: Identity): PublicIdentity {
  return {
    deviceId: identity.deviceId,
    ...(identity.moduleId === undefined ? {} : { moduleId: identity.moduleId }),
    kind: identity.kind,
    generationId: identity.generationId,
    authType: identity.auth.type,
    createdAt: identity.createdAt,
  };
}

/** A new random SAS key: 32 bytes, base64, like IoT Hub's. */
export function generateSasKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

/** A new generation id: 20 random decimal digits (IoT Hub's are decimal too). */
export function generateGenerationId(): string {
  const digits = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(digits, (d) => String(d % 10)).join("").replace(/^0/, "1");
}

/** SAS authentication with two fresh keys. */
export function newSasAuth(): IdentityAuth {
  return { type: "sas", primaryKey: generateSasKey(), secondaryKey: generateSasKey() };
}
