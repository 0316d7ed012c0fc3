/**
 * The state the security manager's parts share (private to security/): configuration, the
 * loaded PKI, the registry, each module's runtime, the change listeners, and the one queue every
 * change of state runs through, in order.
 */
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import { createListeners, type Listeners } from "./_listeners.ts";
import {
  type CaSettings,
  type CaState,
  certificatesPem,
  trustBundleCertificates,
} from "./certificate_authority.ts";
import { createDerivedIdentities, type DerivedIdentities } from "./derived_identities.ts";
import type { EnrollmentSource } from "./enrollment_source.ts";
import type { IdentityRemoval } from "./identity_removal.ts";
import { type MutableIdentityRegistry, openIdentityRegistry } from "./identity_registry.ts";
import type { JwtSigners } from "./jwt_svid.ts";
import type { IssuedLeaf } from "./leaf_store.ts";
import { hubServerNames } from "./server_names.ts";
import type { ModuleApiContext, ModuleRuntime } from "./module_apis.ts";
import { concat } from "./der.ts";

/** Test seams: the clock and the jitter. */
export interface SecurityManagerOptions {
  now?: () => Date;
  random?: () => number;
  /** The machine's host name, added to the server certificate. */
  hostname?: string;
}

function caSettings(config: Config, pkiDir: string): CaSettings {
  const security = config.security;
  return {
    pkiDir,
    deviceId: config.device.id,
    trustDomain: security.trust_domain,
    edgeCaLifetimeDays: security.edge_ca_lifetime_days,
    rootCaLifetimeDays: security.root_ca_lifetime_days,
    ...(security.edge_ca_cert
      ? {
        ownEdgeCaCert: security.edge_ca_cert,
        ownEdgeCaKey: security.edge_ca_key,
        ownTrustBundle: security.trust_bundle,
      }
      : {}),
  };
}

/** Everything the manager's parts read and change; one per manager. */
export class SecurityState {
  readonly now: () => Date;
  readonly random: () => number;
  readonly hostname: string | undefined;
  readonly pkiDir: string;
  readonly mntDir: string;
  readonly settings: CaSettings;
  readonly serverListeners: Listeners<void>;
  readonly bundleListeners: Listeners<void>;
  readonly jwtListeners: Listeners<void>;
  readonly removalListeners: Listeners<IdentityRemoval>;
  /** Module runtimes by lower-cased module id. */
  readonly modules = new Map<string, ModuleRuntime>();
  readonly derived: DerivedIdentities;
  readonly apiContext: ModuleApiContext;
  registry: MutableIdentityRegistry | undefined;
  /** Enrollment groups devices may register through on first connect (set by the fleet). */
  enrollments: EnrollmentSource | undefined;
  ca: CaState | undefined;
  jwt: JwtSigners | undefined;
  server: IssuedLeaf | undefined;
  started = false;
  clockWarning: string | undefined;
  #registryOpening: Promise<MutableIdentityRegistry> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly config: Config,
    readonly stateDir: string,
    readonly logger: Logger,
    options: SecurityManagerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.hostname = options.hostname;
    this.pkiDir = `${stateDir}/pki`;
    this.mntDir = `${stateDir}/mnt`;
    this.settings = caSettings(config, this.pkiDir);
    const reportError = (error: unknown) => logger.error("a security listener failed", { error });
    this.serverListeners = createListeners<void>(reportError);
    this.bundleListeners = createListeners<void>(reportError);
    this.jwtListeners = createListeners<void>(reportError);
    this.removalListeners = createListeners<IdentityRemoval>(reportError);
    this.derived = createDerivedIdentities(() => this.registry);
    this.apiContext = {
      config,
      now: this.now,
      issuer: () => this.requireStarted("issue a certificate").issuer,
      identity: (moduleId) => this.registry?.get(config.device.id, moduleId),
      moduleIds: () =>
        (this.registry?.modulesOf(config.device.id) ?? []).map((identity) => identity.moduleId!),
      hubNames: () => this.hubNames().dnsNames,
      trustBundlePem: () => this.trustBundlePem(),
      bundleDer: () =>
        concat(
          trustBundleCertificates(this.requireStarted("build the bundle")).map((cert) => cert.der),
        ),
      jwt: () => this.jwt!,
      bundleListeners: this.bundleListeners,
      jwtListeners: this.jwtListeners,
    };
  }

  /** Runs `task` after every change queued before it (changes never interleave). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.catch(() => {}).then(task);
    this.#queue = run;
    return run;
  }

  /** Opens `<state>/identities.json` once. */
  openRegistry(): Promise<MutableIdentityRegistry> {
    this.#registryOpening ??= openIdentityRegistry(`${this.stateDir}/identities.json`).then(
      (opened) => this.registry = opened,
    );
    return this.#registryOpening;
  }

  /** The loaded CA; throws naming `action` before start. */
  requireStarted(action: string): CaState {
    if (!this.ca || !this.started) {
      throw new Error(`Cannot ${action}: the security component is not started`);
    }
    return this.ca;
  }

  /** The hub's server names (its host names, the machine's, loopback). */
  hubNames(): { dnsNames: string[]; ipAddresses: string[] } {
    return hubServerNames(this.config, this.hostname ?? Deno.hostname());
  }

  /** PEM trust bundle (roots and, during CA overlap, old and new). */
  trustBundlePem(): string {
    return certificatesPem(trustBundleCertificates(this.requireStarted("give the trust bundle")));
  }
}
