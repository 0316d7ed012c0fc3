/**
 * The security manager: the CA, the identity registry, the per-module workload sockets, and the
 * renewal of everything that expires. The hub and the agent use it through
 * {@linkcode SecurityManager}; the management API through the extra methods of
 * {@linkcode SecurityManagerControl}.
 */
import type { RuntimeContext } from "../core/component.ts";
import { createListeners } from "./_listeners.ts";
import {
  type CaSettings,
  type CaState,
  certificatesPem,
  loadOrCreateCa,
  pruneExpired,
  renewEdgeCa,
  trustBundleCertificates,
} from "./certificate_authority.ts";
import { BACKDATE_SECONDS } from "./certificate_builder.ts";
import { describeCertificates } from "./certificate_listing.ts";
import { checkClientCertificate } from "./client_certificate.ts";
import { generateGenerationId, type Identity, IdentityId, newSasAuth } from "./identity.ts";
import {
  type IdentityRegistry,
  type MutableIdentityRegistry,
  openIdentityRegistry,
} from "./identity_registry.ts";
import {
  dropPreviousJwtSigner,
  type JwtSigners,
  loadOrCreateJwtSigners,
  rotateJwtSigner,
} from "./jwt_svid.ts";
import {
  type IssuedLeaf,
  issueModuleLeaf,
  loadServerCertificate,
  saveServerCertificate,
} from "./leaf_store.ts";
import {
  concatBytes,
  createSpiffeSource,
  createWorkloadBackend,
  issueSvid,
  type ModuleApiContext,
  type ModuleRuntime,
  spiffeIdOf as spiffeIdIn,
} from "./module_apis.ts";
import { serveModuleSockets } from "./module_sockets.ts";
import { renewalTime, timerDelay } from "./renewal.ts";
import { checkSasToken, hmacSha256Base64, identityLabel } from "../iothub/mod.ts";
import { createDerivedIdentities } from "./derived_identities.ts";
import { type IdentityRemoval, identityRemoval, isIdentityCurrent } from "./identity_removal.ts";
import type { SecurityManagerControl } from "./security_manager_api.ts";
import type { x509 } from "./_x509.ts";

export type * from "./security_manager_api.ts";

/** Test seams: the clock and the jitter. */
export interface SecurityManagerOptions {
  now?: () => Date;
  random?: () => number;
  /** The machine's host name, added to the server certificate. */
  hostname?: string;
}

function key(moduleId: string): string {
  return moduleId.toLowerCase();
}

/** Creates the manager for `context`; {@linkcode SecurityManagerControl.start} loads the PKI. */
export function createSecurityManager(
  context: RuntimeContext,
  options: SecurityManagerOptions = {},
): SecurityManagerControl {
  const { config, stateDir } = context;
  const logger = context.logger;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const security = config.security;
  const pkiDir = `${stateDir}/pki`;
  const mntDir = `${stateDir}/mnt`;
  const settings: CaSettings = {
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
  const reportError = (error: unknown) => logger.error("a security listener failed", { error });
  const serverListeners = createListeners<void>(reportError);
  const bundleListeners = createListeners<void>(reportError);
  const jwtListeners = createListeners<void>(reportError);
  const removalListeners = createListeners<IdentityRemoval>(reportError);
  const modules = new Map<string, ModuleRuntime>();
  const renewAt = new Map<string, Date>();

  let registry: MutableIdentityRegistry | undefined;
  let registryOpening: Promise<MutableIdentityRegistry> | undefined;
  let ca: CaState | undefined;
  let jwt: JwtSigners | undefined;
  let server: IssuedLeaf | undefined;
  let started = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let clockWarning: string | undefined;
  // Every change of state runs one at a time, in order.
  let queue: Promise<unknown> = Promise.resolve();
  function exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.catch(() => {}).then(task);
    queue = run;
    return run;
  }

  const derived = createDerivedIdentities(() => registry);

  /**
   * SAS keys of a device registered below this one. With an upstream key, the primary key is the
   * one the upstream link uses for that device on the parent (`HMAC(upstream key, "devices/<id>")`),
   * so the device has the same key at every ancestor; otherwise both are random.
   */
  function sasAuthBelow(deviceId: string): Identity["auth"] {
    const fresh = newSasAuth();
    const upstreamKey = config.upstream.shared_access_key;
    if (fresh.type !== "sas" || upstreamKey === "") return fresh;
    return { ...fresh, primaryKey: hmacSha256Base64(upstreamKey, `devices/${deviceId}`) };
  }

  function openRegistry(): Promise<MutableIdentityRegistry> {
    registryOpening ??= openIdentityRegistry(`${stateDir}/identities.json`).then((opened) => {
      registry = opened;
      return opened;
    });
    return registryOpening;
  }

  function requireStarted(action: string): CaState {
    if (!ca || !started) throw new Error(`Cannot ${action}: the security component is not started`);
    return ca;
  }

  function renewalOf(cert: x509.X509Certificate): Date {
    const id = `${cert.issuer}|${cert.serialNumber}`;
    let at = renewAt.get(id);
    if (!at) renewAt.set(id, at = renewalTime(cert, random, BACKDATE_SECONDS * 1000));
    return at;
  }

  function spiffeIdOf(deviceId: string, moduleId?: string): string | undefined {
    return spiffeIdIn(config, deviceId, moduleId);
  }

  const apiContext: ModuleApiContext = {
    config,
    now,
    issuer: () => requireStarted("issue a certificate").issuer,
    identity: (moduleId) => registry?.get(config.device.id, moduleId),
    trustBundlePem: () => manager.trustBundlePem(),
    bundleDer: () =>
      concatBytes(
        trustBundleCertificates(requireStarted("build the bundle")).map((cert) =>
          new Uint8Array(cert.rawData)
        ),
      ),
    jwt: () => jwt!,
    bundleListeners,
    jwtListeners,
  };

  async function issueServer(): Promise<void> {
    const names = new Set([
      config.device.hostname,
      config.device.iothub_hostname,
      "localhost",
      options.hostname ?? Deno.hostname(),
    ].map((name) => name.toLowerCase()));
    const ips = new Set(["127.0.0.1", "::1"]);
    for (const name of [...names]) {
      if (/^[\d.]+$/.test(name) || name.includes(":")) {
        names.delete(name);
        ips.add(name);
      }
    }
    server = await issueModuleLeaf(requireStarted("issue the server certificate").issuer, {
      profile: "server",
      commonName: config.device.hostname.slice(0, 64),
      dnsNames: [...names],
      ipAddresses: [...ips],
      // No SPIFFE URI SAN here: rustls (Deno's TLS, so a child ledge's upstream link) rejects a
      // URI SAN under an issuer with URI name constraints, and a TLS server needs only its names.
      trustDomain: security.trust_domain,
      lifetimeSeconds: security.leaf_lifetime_seconds,
      now: now(),
    });
    await saveServerCertificate(pkiDir, server);
  }

  function runtimeFor(moduleId: string): ModuleRuntime {
    let runtime = modules.get(key(moduleId));
    if (!runtime) {
      runtime = {
        moduleId,
        svid: undefined,
        sockets: undefined,
        svidListeners: createListeners<void>(reportError),
      };
      modules.set(key(moduleId), runtime);
    }
    return runtime;
  }

  async function serveModule(runtime: ModuleRuntime): Promise<void> {
    if (runtime.sockets) return;
    if (!runtime.svid) await issueSvid(runtime, apiContext);
    runtime.sockets = await serveModuleSockets(`${mntDir}/${runtime.moduleId}`, {
      backend: createWorkloadBackend(runtime, apiContext),
      spiffe: createSpiffeSource(runtime, apiContext),
      logger: logger.child(runtime.moduleId),
    });
  }

  /** Renews whatever is due (or everything, when `force`), then re-arms the timer. */
  async function renewDue(force: { leaves?: boolean; ca?: boolean } = {}): Promise<void> {
    const state = requireStarted("renew");
    const at = now();
    const due = (cert: x509.X509Certificate) => renewalOf(cert).getTime() <= at.getTime();
    let caRenewed = false;
    if (force.ca || (!state.own && (due(state.issuer.cert) || due(state.roots[0]!)))) {
      const rotateRoot = due(state.roots[0]!) ||
        state.roots[0]!.notAfter.getTime() <= at.getTime();
      await renewEdgeCa(settings, state, { now: at, rotateRoot });
      await rotateJwtSigner(pkiDir, jwt!);
      logger.info("renewed the edge CA", {
        notAfter: state.issuer.cert.notAfter.toISOString(),
        rootRotated: rotateRoot,
      });
      caRenewed = true;
    } else if (state.own && due(state.issuer.cert)) {
      logger.warn("the operator's edge CA is past its renewal point: replace its files", {
        file: settings.ownEdgeCaCert,
        notAfter: state.issuer.cert.notAfter.toISOString(),
      });
    }
    const hadPrevious = state.previousEdgeCa !== undefined;
    await pruneExpired(settings, state, at);
    if (hadPrevious && !state.previousEdgeCa) {
      await dropPreviousJwtSigner(pkiDir, jwt!);
      bundleListeners.emit();
      jwtListeners.emit();
    }
    const all = caRenewed || force.leaves === true;
    if (!server || all || due(server.cert)) {
      await issueServer();
      logger.info("renewed the server certificate", {
        notAfter: server!.cert.notAfter.toISOString(),
      });
      serverListeners.emit();
    }
    if (caRenewed) {
      bundleListeners.emit();
      jwtListeners.emit();
    }
    for (const runtime of modules.values()) {
      const svid = runtime.svid;
      if (svid && "unavailable" in svid) continue;
      if (!svid || all || due(svid.cert)) {
        await issueSvid(runtime, apiContext);
        runtime.svidListeners.emit();
      }
    }
    arm();
  }

  function arm(): void {
    clearTimeout(timer);
    if (!started || !ca) return;
    const candidates: Date[] = [];
    if (!ca.own) candidates.push(renewalOf(ca.issuer.cert), renewalOf(ca.roots[0]!));
    if (ca.previousEdgeCa) candidates.push(ca.previousEdgeCa.notAfter);
    if (server) candidates.push(renewalOf(server.cert));
    for (const runtime of modules.values()) {
      if (runtime.svid && !("unavailable" in runtime.svid)) {
        candidates.push(renewalOf(runtime.svid.cert));
      }
    }
    if (candidates.length === 0) return;
    const next = new Date(Math.min(...candidates.map((d) => d.getTime())));
    timer = setTimeout(() => {
      exclusive(() => renewDue()).catch((error) => {
        logger.error("certificate renewal failed; retrying in 60 s", { error });
        clearTimeout(timer);
        timer = setTimeout(() => exclusive(() => renewDue()).catch(() => arm()), 60_000);
      });
    }, timerDelay(next, now()));
  }

  function checkClock(state: CaState): void {
    const at = now();
    const earliest = [state.roots[0]!, state.issuer.cert].map((c) => c.notBefore.getTime());
    const notBefore = Math.max(...earliest);
    if (at.getTime() < notBefore) {
      clockWarning = `the system clock (${at.toISOString()}) is before the CA's notBefore (${
        new Date(notBefore).toISOString()
      }): certificates will look invalid to peers; fix the clock (NTP)`;
      logger.error(`CLOCK LOOKS WRONG: ${clockWarning}`);
    }
  }

  const manager: SecurityManagerControl = {
    get registry(): IdentityRegistry {
      return registry ?? { get: () => undefined, list: () => [], modulesOf: () => [] };
    },
    get trustDomain() {
      return security.trust_domain;
    },
    get clockWarning() {
      return clockWarning;
    },

    start(signal) {
      return exclusive(async () => {
        const begun = performance.now();
        const opened = await openRegistry();
        signal.throwIfAborted();
        ca = await loadOrCreateCa(settings, { now: now(), logger });
        jwt = await loadOrCreateJwtSigners(pkiDir);
        checkClock(ca);
        if (!opened.get(config.device.id)) {
          await opened.add({
            deviceId: config.device.id,
            kind: "edge-device",
            generationId: generateGenerationId(),
            auth: newSasAuth(),
            createdAt: now().toISOString(),
          });
        }
        server = await loadServerCertificate(pkiDir, ca.issuer, logger);
        started = true;
        for (const identity of opened.modulesOf(config.device.id)) runtimeFor(identity.moduleId!);
        await renewDue();
        for (const runtime of modules.values()) {
          signal.throwIfAborted();
          await serveModule(runtime);
        }
        logger.info("security started", {
          trustDomain: security.trust_domain,
          modules: modules.size,
          ownCa: ca.own,
          ms: Math.round(performance.now() - begun),
        });
      });
    },

    stop() {
      return exclusive(async () => {
        started = false;
        clearTimeout(timer);
        await Promise.all([...modules.values()].map(async (runtime) => {
          await runtime.sockets?.close();
          runtime.sockets = undefined;
        }));
      });
    },

    provisionModule(moduleId) {
      const parsed = IdentityId.safeParse(moduleId);
      if (!parsed.success) {
        return Promise.reject(
          new RangeError(
            `Cannot provision module "${moduleId}": ${parsed.error.issues[0]!.message}`,
          ),
        );
      }
      return exclusive(async () => {
        const opened = await openRegistry();
        let identity = opened.get(config.device.id, moduleId);
        if (!identity) {
          identity = {
            deviceId: config.device.id,
            moduleId,
            kind: "module",
            generationId: generateGenerationId(),
            auth: newSasAuth(),
            createdAt: now().toISOString(),
          };
          await opened.add(identity);
          logger.info("module identity created", { module: moduleId });
        }
        const runtime = runtimeFor(identity.moduleId!);
        if (started) {
          await serveModule(runtime);
          arm();
        }
        return { generationId: identity.generationId, socketDir: `${mntDir}/${runtime.moduleId}` };
      });
    },

    removeModule(moduleId) {
      return exclusive(async () => {
        const opened = await openRegistry();
        const runtime = modules.get(key(moduleId));
        modules.delete(key(moduleId));
        await runtime?.sockets?.close();
        const identity = opened.get(config.device.id, moduleId);
        const dirName = runtime?.moduleId ?? identity?.moduleId ?? moduleId;
        if (IdentityId.safeParse(dirName).success) {
          await Deno.remove(`${mntDir}/${dirName}`, { recursive: true }).catch((error) => {
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          });
        }
        if (identity) {
          await opened.remove(config.device.id, moduleId);
          logger.info("module identity removed", { module: identity.moduleId });
          removalListeners.emit(identityRemoval(identity));
        }
        arm();
      });
    },

    verifySasToken(token, claimed) {
      const identity = registry?.get(claimed.deviceId, claimed.moduleId);
      const name = identityLabel(claimed);
      const check = (keys: string[]) =>
        checkSasToken(token, {
          hosts: [config.device.hostname, config.device.iothub_hostname],
          deviceId: claimed.deviceId,
          moduleId: claimed.moduleId,
          keys,
          nowSeconds: Math.floor(now().getTime() / 1000),
        });
      if (!identity) {
        // Perhaps an identity below a child edge device, its key derived from the child's.
        const candidates = derived.candidates(claimed);
        if (candidates.length === 0) return { ok: false, reason: `unknown identity ${name}` };
        let verdict: { ok: true } | { ok: false; reason: string } = {
          ok: false,
          reason: `unknown identity ${name}`,
        };
        for (const candidate of candidates) {
          verdict = check(candidate.keys);
          if (verdict.ok) {
            derived.matched(candidate);
            return { ok: true, identity: { ...candidate.identity, via: candidate.via } };
          }
        }
        return candidates.length === 1 ? verdict : {
          ok: false,
          reason:
            `${name} is not registered and its token matches no key derived from a child edge device`,
        };
      }
      if (identity.auth.type !== "sas") {
        return { ok: false, reason: `identity ${name} does not authenticate with SAS` };
      }
      const verdict = check([identity.auth.primaryKey, identity.auth.secondaryKey]);
      return verdict.ok ? { ok: true, identity } : verdict;
    },

    verifyClientCertificate(chain, claimed) {
      const identity = registry?.get(claimed.deviceId, claimed.moduleId);
      if (!identity) return { ok: false, reason: `unknown identity ${identityLabel(claimed)}` };
      if (!ca) return { ok: false, reason: "the security component is not started" };
      const issuers = [ca.issuer.cert, ...(ca.previousEdgeCa ? [ca.previousEdgeCa] : [])];
      const verdict = checkClientCertificate(chain, {
        identity,
        spiffeId: spiffeIdOf(identity.deviceId, identity.moduleId),
        issuers: issuers.map((cert) => new Uint8Array(cert.rawData)),
        now: now(),
        // Certificates of an earlier generation of this id are refused; an operator's own CA may
        // have issued a device's certificate before it was registered, so devices under it are not.
        ...(identity.moduleId !== undefined || !ca.own
          ? { generationStart: new Date(identity.createdAt) }
          : {}),
      });
      return verdict.ok ? { ok: true, identity } : verdict;
    },

    serverTls() {
      requireStarted("give the server TLS credentials");
      return {
        certPem: certificatesPem([server!.cert]),
        keyPem: server!.keyPem,
        chainPem: server!.chainPem,
      };
    },

    onServerTlsChange: (listener) => serverListeners.add(listener),

    onIdentityRemoved: (listener) => removalListeners.add(listener),

    isIdentityCurrent: (identity) =>
      registry !== undefined && isIdentityCurrent(registry, identity),

    onModuleSvidChange: (moduleId, listener) => runtimeFor(moduleId).svidListeners.add(listener),

    trustBundlePem() {
      return certificatesPem(trustBundleCertificates(requireStarted("give the trust bundle")));
    },

    addDevice(deviceId, auth, addOptions = {}) {
      const parsed = IdentityId.safeParse(deviceId);
      if (!parsed.success) {
        return Promise.reject(
          new RangeError(`Cannot add device "${deviceId}": ${parsed.error.issues[0]!.message}`),
        );
      }
      return exclusive(async () => {
        const state = requireStarted("add a device");
        const opened = await openRegistry();
        const edge = addOptions.edge === true;
        if (edge && auth !== "sas") {
          throw new RangeError(
            `Cannot add edge device "${deviceId}": child edge devices authenticate with SAS keys`,
          );
        }
        const identity: Identity = {
          deviceId,
          kind: edge ? "child-edge-device" : "leaf-device",
          generationId: generateGenerationId(),
          auth: auth === "sas" ? sasAuthBelow(deviceId) : { type: "x509-ca" },
          createdAt: now().toISOString(),
        };
        await opened.add(identity);
        derived.invalidate();
        logger.info(edge ? "child edge device added" : "leaf device added", {
          device: deviceId,
          auth: identity.auth.type,
        });
        if (auth === "sas") return { identity };
        const spiffeId = spiffeIdOf(deviceId);
        const leaf = await issueModuleLeaf(state.issuer, {
          profile: "client",
          commonName: deviceId.slice(0, 64),
          ...(spiffeId ? { spiffeId } : {}),
          trustDomain: security.trust_domain,
          lifetimeSeconds: security.edge_ca_lifetime_days * 86400,
          now: now(),
        });
        const files = await leaf.saveTo(`${pkiDir}/devices`, deviceId);
        return { identity, certificateFile: files.certificateFile, keyFile: files.keyFile };
      });
    },

    removeDevice(deviceId) {
      return exclusive(async () => {
        const opened = await openRegistry();
        const identity = opened.get(deviceId);
        if (!identity) return false;
        if (identity.kind !== "leaf-device" && identity.kind !== "child-edge-device") {
          throw new RangeError(
            `Cannot remove ${identity.deviceId}: it is this edge device; only leaf devices and child edge devices can be removed`,
          );
        }
        await opened.remove(deviceId);
        derived.invalidate();
        for (const suffix of [".pem", ".key.pem"]) {
          await Deno.remove(`${pkiDir}/devices/${identity.deviceId}${suffix}`).catch(() => {});
        }
        logger.info(`${identity.kind === "leaf-device" ? "leaf" : "child edge"} device removed`, {
          device: identity.deviceId,
        });
        removalListeners.emit(identityRemoval(identity));
        return true;
      });
    },

    certificates() {
      const state = requireStarted("list certificates");
      const svids = [...modules.values()].flatMap((runtime) =>
        runtime.svid && !("unavailable" in runtime.svid)
          ? [{ name: runtime.moduleId, cert: runtime.svid.cert }]
          : []
      );
      return describeCertificates(state, { server: server!.cert, svids, now: now(), renewalOf });
    },

    renew(options) {
      return exclusive(() => renewDue({ leaves: true, ca: options.ca }));
    },
  };
  return manager;
}
