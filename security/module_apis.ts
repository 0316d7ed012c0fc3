/**
 * What a module's two sockets serve, bound to that module: the IoT Edge workload backend
 * (signing with its keys, its certificates) and the SPIFFE source (its SVID, the bundles).
 */
import type { Config } from "../core/config.ts";
import { concat } from "./der.ts";
import type { Listeners } from "./_listeners.ts";
import type { CertificateIssuer } from "./certificate_builder.ts";
import type { Identity } from "./identity.ts";
import { jwtBundle, type JwtSigners, signJwtSvid, validateJwtSvid } from "./jwt_svid.ts";
import { type IssuedLeaf, issueModuleLeaf } from "./leaf_store.ts";
import type { ModuleSockets } from "./module_sockets.ts";
import { checkModuleServerName, isDnsName } from "./server_names.ts";
import { workloadSpiffeId } from "./spiffe_id.ts";
import type { SpiffeSource } from "./spiffe_server.ts";
import type { WorkloadBackend } from "./workload_api.ts";

/** The manager's state of one module. */
export interface ModuleRuntime {
  /** The module id as registered (its spelling). */
  moduleId: string;
  svid: IssuedLeaf | { unavailable: string } | undefined;
  sockets: ModuleSockets | undefined;
  svidListeners: Listeners<void>;
}

/** What the module APIs take from the manager. */
export interface ModuleApiContext {
  config: Config;
  now(): Date;
  /** The current issuing CA; throws when not started. */
  issuer(): CertificateIssuer;
  identity(moduleId: string): Identity | undefined;
  /** The ids of this device's modules (for the server-name rule). */
  moduleIds(): string[];
  /** The hub's DNS names, which no module may claim. */
  hubNames(): string[];
  trustBundlePem(): string;
  /** DER trust bundle, concatenated. */
  bundleDer(): Uint8Array;
  jwt(): JwtSigners;
  bundleListeners: Listeners<void>;
  jwtListeners: Listeners<void>;
}

/** The SPIFFE ID of `deviceId[/moduleId]` in the configured trust domain, if it can have one. */
export function spiffeIdOf(config: Config, deviceId: string, moduleId?: string) {
  try {
    return workloadSpiffeId(config.security.trust_domain, deviceId, moduleId);
  } catch {
    return undefined;
  }
}

/** Issues (or re-issues) the X.509-SVID of a module; ids SPIFFE cannot hold get none. */
export function issueSvid(runtime: ModuleRuntime, context: ModuleApiContext): void {
  const { config } = context;
  const spiffeId = spiffeIdOf(config, config.device.id, runtime.moduleId);
  if (!spiffeId) {
    runtime.svid = {
      unavailable:
        `Cannot issue an X.509-SVID: module id "${runtime.moduleId}" has characters outside A-Z a-z 0-9 . _ -`,
    };
    return;
  }
  runtime.svid = issueModuleLeaf(context.issuer(), {
    profile: "svid",
    commonName: runtime.moduleId.slice(0, 64),
    spiffeId,
    trustDomain: config.security.trust_domain,
    lifetimeSeconds: config.security.leaf_lifetime_seconds,
    now: context.now(),
  });
}

/** The DNS names of a module's server certificate: the requested one, and its id if a DNS name. */
function serverNames(moduleId: string, commonName: string, context: ModuleApiContext): string[] {
  const name = checkModuleServerName(commonName, {
    moduleId,
    otherModuleIds: context.moduleIds(),
    hubNames: context.hubNames(),
  });
  const own = moduleId.toLowerCase();
  return name === own || !isDnsName(own) ? [name] : [name, own];
}

/** The IoT Edge workload backend of one module. */
export function createWorkloadBackend(
  runtime: ModuleRuntime,
  context: ModuleApiContext,
): WorkloadBackend {
  const { config, now } = context;
  const security = config.security;
  // Synchronous (key generation and signing are); the backend's callers get a promise, which
  // rejects with what issue() throws (a bad common name or lifetime).
  function issue(
    profile: "client" | "server",
    extra: { commonName?: string; expiration?: Date },
  ) {
    const lifetime = extra.expiration
      ? Math.min(
        security.leaf_lifetime_seconds,
        (extra.expiration.getTime() - now().getTime()) / 1000,
      )
      : security.leaf_lifetime_seconds;
    const spiffeId = spiffeIdOf(config, config.device.id, runtime.moduleId);
    // IoT Edge puts the common name and the module id in a server certificate's SANs; ledge
    // only a name the module may claim (server_names.ts), never the hub's or another module's.
    const names = profile === "server"
      ? serverNames(runtime.moduleId, extra.commonName!, context)
      : [];
    const leaf = issueModuleLeaf(context.issuer(), {
      profile,
      commonName: extra.commonName ?? runtime.moduleId.slice(0, 64),
      dnsNames: names,
      ...(spiffeId ? { spiffeId } : {}),
      trustDomain: security.trust_domain,
      lifetimeSeconds: Math.max(1, Math.floor(lifetime)),
      now: now(),
    });
    return {
      certificatePem: leaf.chainPem,
      privateKeyPem: leaf.keyPem,
      notAfter: leaf.cert.notAfter,
    };
  }
  return {
    moduleId: runtime.moduleId,
    identity: () => context.identity(runtime.moduleId),
    now,
    trustBundlePem: () => context.trustBundlePem(),
    issueIdentityCertificate: (options) => Promise.try(() => issue("client", options)),
    issueServerCertificate: (options) => Promise.try(() => issue("server", options)),
  };
}

/**
 * Whether the module a JWT-SVID names is still the one it was issued to: registered, and created
 * no later than the token's `iat` (JWT-SVIDs are only issued to this device's modules).
 */
function subjectIsCurrent(context: ModuleApiContext, spiffeId: string, issuedAt: number): boolean {
  const { config } = context;
  const prefix = `spiffe://${config.security.trust_domain}/ledge/${config.device.id}/`;
  if (!spiffeId.startsWith(prefix)) return false;
  const identity = context.identity(spiffeId.slice(prefix.length));
  return identity !== undefined &&
    Math.floor(Date.parse(identity.createdAt) / 1000) <= issuedAt;
}

/** The SPIFFE Workload API source of one module. */
export function createSpiffeSource(
  runtime: ModuleRuntime,
  context: ModuleApiContext,
): SpiffeSource {
  const { config, now } = context;
  const td = config.security.trust_domain;
  return {
    trustDomain: td,
    x509Svid() {
      const svid = runtime.svid;
      if (!svid) return { unavailable: "Cannot serve an X.509-SVID: none issued yet" };
      if ("unavailable" in svid) return svid;
      return {
        spiffeId: svid.spiffeId!,
        certChainDer: concat(svid.chainDer),
        keyDer: svid.keyDer,
        bundleDer: context.bundleDer(),
      };
    },
    x509Bundles: () => ({ [td]: context.bundleDer() }),
    jwtBundles: () => ({
      [td]: new TextEncoder().encode(JSON.stringify(jwtBundle(context.jwt()))),
    }),
    async signJwt(audience, requested) {
      const spiffeId = spiffeIdOf(config, config.device.id, runtime.moduleId);
      if (!spiffeId) {
        throw new RangeError(
          `Cannot issue a JWT-SVID: module id "${runtime.moduleId}" cannot be a SPIFFE ID`,
        );
      }
      if (requested && requested !== spiffeId) {
        throw new RangeError(
          `Cannot issue a JWT-SVID for ${requested}: this workload is ${spiffeId}`,
        );
      }
      return {
        spiffeId,
        svid: await signJwtSvid(context.jwt().current, { spiffeId, audience, now: now() }),
      };
    },
    async validateJwt(token, audience) {
      const valid = await validateJwtSvid(token, { signers: context.jwt(), audience, now: now() });
      const issuedAt = typeof valid.claims.iat === "number" ? valid.claims.iat : 0;
      if (!subjectIsCurrent(context, valid.spiffeId, issuedAt)) {
        throw new Error(
          `Cannot validate the JWT-SVID: ${valid.spiffeId} was removed (or re-created) since it was issued`,
        );
      }
      return valid;
    },
    onSvidChange: (listener) => runtime.svidListeners.add(listener),
    onX509BundleChange: (listener) => context.bundleListeners.add(listener),
    onJwtBundleChange: (listener) => context.jwtListeners.add(listener),
  };
}
