/**
 * The security manager: the CA, the identity registry, the per-module workload sockets, and the
 * renewal of everything that expires. The hub and the agent use it through
 * {@linkcode SecurityManager}; the management API through the extra methods of
 * {@linkcode SecurityManagerControl}.
 */
import { Buffer } from "node:buffer";
import type { RuntimeContext } from "../runtime/component.ts";
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
import { checkClientCertificate } from "./client_certificate.ts";
import {
  generateGenerationId,
  type Identity,
  IdentityId,
  identityName,
  newSasAuth,
} from "./identity.ts";
import { type IdentityRegistry, openIdentityRegistry } from "./identity_registry.ts";
import type { MutableIdentityRegistry } from "./identity_registry.ts";
import {
  dropPreviousJwtSigner,
  jwtBundle,
  type JwtSigners,
  loadOrCreateJwtSigners,
  rotateJwtSigner,
  signJwtSvid,
  validateJwtSvid,
} from "./jwt_svid.ts";
import { type ModuleSockets, serveModuleSockets } from "./module_sockets.ts";
import { renewalTime, timerDelay } from "./renewal.ts";
import { checkSasToken } from "./sas_token.ts";
import {
  type IssuedLeaf,
  issueModuleLeaf,
  loadServerCertificate,
  saveServerCertificate,
} from "./leaf_store.ts";
import { workloadSpiffeId } from "./spiffe_id.ts";
import type { SpiffeSource } from "./spiffe_server.ts";
import type { WorkloadBackend } from "./workload_api.ts";
import { x509 } from "./_x509.ts";

/** The verdict of an authentication check. */
export type AuthVerdict = { ok: true; identity: Identity } | { ok: false; reason: string };

/** What `provisionModule` returns. */
export interface ModuleProvision {
  generationId: string;
  /**
   * Host directory `<state>/mnt/<moduleId>/` holding `workload.sock` (IoT Edge workload API)
   * and `spiffe.sock` (SPIFFE Workload API). The agent bind-mounts this directory at
   * `/var/run/iotedge` in the module's container; a directory (not the socket files) is mounted so
   * that a ledge restart, which re-creates the sockets, does not break running containers.
   */
  socketDir: string;
}

/** What the hub and the agent use. */
export interface SecurityManager {
  /** Idempotent: creates the module identity if missing and (while started) serves its sockets. */
  provisionModule(moduleId: string): Promise<ModuleProvision>;
  /** Deletes the module identity, closes its servers, removes its socket dir. */
  removeModule(moduleId: string): Promise<void>;
  /** The identity registry (devices, modules, leaf devices). O(1) lookup. */
  readonly registry: IdentityRegistry;
  /** Checks a SAS token presented by a client claiming `deviceId[/moduleId]`. */
  verifySasToken(token: string, claimed: { deviceId: string; moduleId?: string }): AuthVerdict;
  /** Checks a TLS client certificate chain (DER, leaf first) presented for an identity. */
  verifyClientCertificate(
    chain: readonly Uint8Array[],
    claimed: { deviceId: string; moduleId?: string },
  ): AuthVerdict;
  /** The hub's TLS server credentials. */
  serverTls(): { certPem: string; keyPem: string; chainPem: string };
  /** Called after the server certificate renews; returns the unsubscribe function. */
  onServerTlsChange(listener: () => void): () => void;
  /** PEM trust bundle (roots and, during CA overlap, old and new). */
  trustBundlePem(): string;
}

/** One certificate as `ledge cert list` shows it. */
export interface CertificateInfo {
  kind: "root-ca" | "edge-ca" | "previous-edge-ca" | "previous-root-ca" | "server" | "module";
  name: string;
  subject: string;
  sans: string[];
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  renewAt: string | undefined;
}

/** A leaf device added by the operator. */
export interface AddedDevice {
  identity: Identity;
  certificateFile?: string;
  keyFile?: string;
}

/** The manager with its lifecycle and the operator's actions. */
export interface SecurityManagerControl extends SecurityManager {
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  addDevice(deviceId: string, auth: "sas" | "x509"): Promise<AddedDevice>;
  removeDevice(deviceId: string): Promise<boolean>;
  certificates(): CertificateInfo[];
  /** Renews every leaf now; with `ca`, the edge CA first. */
  renew(options: { ca: boolean }): Promise<void>;
  /** Subscribes to one module's SVID rotations. */
  onModuleSvidChange(moduleId: string, listener: () => void): () => void;
  /** The trust domain SPIFFE IDs live in. */
  readonly trustDomain: string;
  /** Set when the clock looked wrong at start (before the CA's notBefore). */
  readonly clockWarning: string | undefined;
}

/** Test seams: the clock and the jitter. */
export interface SecurityManagerOptions {
  now?: () => Date;
  random?: () => number;
  /** The machine's host name, added to the server certificate. */
  hostname?: string;
}

interface ModuleRuntime {
  moduleId: string;
  svid: IssuedLeaf | { unavailable: string } | undefined;
  sockets: ModuleSockets | undefined;
  svidListeners: ReturnType<typeof createListeners<void>>;
}

function key(moduleId: string): string {
  return moduleId.toLowerCase();
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((part) => Buffer.from(part))));
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
    try {
      return workloadSpiffeId(security.trust_domain, deviceId, moduleId);
    } catch {
      return undefined;
    }
  }

  function bundleDer(): Uint8Array {
    return concat(
      trustBundleCertificates(requireStarted("build the bundle")).map((c) =>
        new Uint8Array(c.rawData)
      ),
    );
  }

  async function issueSvid(runtime: ModuleRuntime): Promise<void> {
    const spiffeId = spiffeIdOf(config.device.id, runtime.moduleId);
    if (!spiffeId) {
      runtime.svid = {
        unavailable:
          `Cannot issue an X.509-SVID: module id "${runtime.moduleId}" has characters outside A-Z a-z 0-9 . _ -`,
      };
      return;
    }
    runtime.svid = await issueModuleLeaf(requireStarted("issue an SVID").issuer, {
      profile: "svid",
      commonName: runtime.moduleId.slice(0, 64),
      spiffeId,
      trustDomain: security.trust_domain,
      lifetimeSeconds: security.leaf_lifetime_seconds,
      now: now(),
    });
  }

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
      ...(spiffeIdOf(config.device.id) ? { spiffeId: spiffeIdOf(config.device.id)! } : {}),
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

  function workloadBackend(runtime: ModuleRuntime): WorkloadBackend {
    const identity = () => registry?.get(config.device.id, runtime.moduleId);
    const issue = async (
      profile: "client" | "server",
      extra: { commonName?: string; expiration?: Date },
    ) => {
      const current = requireStarted("issue a certificate");
      const lifetime = extra.expiration
        ? Math.min(
          security.leaf_lifetime_seconds,
          (extra.expiration.getTime() - now().getTime()) / 1000,
        )
        : security.leaf_lifetime_seconds;
      const spiffeId = spiffeIdOf(config.device.id, runtime.moduleId);
      const dns = profile === "server"
        ? [
          extra.commonName!,
          ...(/^[A-Za-z0-9-]{1,63}$/.test(runtime.moduleId) ? [runtime.moduleId] : []),
        ]
        : [];
      const leaf = await issueModuleLeaf(current.issuer, {
        profile,
        commonName: extra.commonName ?? runtime.moduleId.slice(0, 64),
        dnsNames: dns.filter((name) => !/^[\d.]+$/.test(name)),
        ipAddresses: dns.filter((name) => /^[\d.]+$/.test(name)),
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
    };
    return {
      moduleId: runtime.moduleId,
      identity,
      now,
      trustBundlePem: () => manager.trustBundlePem(),
      issueIdentityCertificate: (o) => issue("client", o),
      issueServerCertificate: (o) => issue("server", o),
    };
  }

  function spiffeSource(runtime: ModuleRuntime): SpiffeSource {
    const td = security.trust_domain;
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
          bundleDer: bundleDer(),
        };
      },
      x509Bundles: () => ({ [td]: bundleDer() }),
      jwtBundles: () => ({ [td]: new TextEncoder().encode(JSON.stringify(jwtBundle(jwt!))) }),
      async signJwt(audience, requested) {
        const spiffeId = spiffeIdOf(config.device.id, runtime.moduleId);
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
          svid: await signJwtSvid(jwt!.current, { spiffeId, audience, now: now() }),
        };
      },
      validateJwt: (token, audience) =>
        validateJwtSvid(token, { signers: jwt!, audience, now: now() }),
      onSvidChange: (listener) => runtime.svidListeners.add(listener),
      onX509BundleChange: (listener) => bundleListeners.add(listener),
      onJwtBundleChange: (listener) => jwtListeners.add(listener),
    };
  }

  async function serveModule(runtime: ModuleRuntime): Promise<void> {
    if (runtime.sockets) return;
    if (!runtime.svid) await issueSvid(runtime);
    runtime.sockets = await serveModuleSockets(`${mntDir}/${runtime.moduleId}`, {
      backend: workloadBackend(runtime),
      spiffe: spiffeSource(runtime),
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
        await issueSvid(runtime);
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
        }
        arm();
      });
    },

    verifySasToken(token, claimed) {
      const identity = registry?.get(claimed.deviceId, claimed.moduleId);
      const name = identityName(claimed);
      if (!identity) return { ok: false, reason: `unknown identity ${name}` };
      if (identity.auth.type !== "sas") {
        return { ok: false, reason: `identity ${name} does not authenticate with SAS` };
      }
      const verdict = checkSasToken(token, {
        hosts: [config.device.hostname, config.device.iothub_hostname],
        deviceId: claimed.deviceId,
        moduleId: claimed.moduleId,
        keys: [identity.auth.primaryKey, identity.auth.secondaryKey],
        nowSeconds: Math.floor(now().getTime() / 1000),
      });
      return verdict.ok ? { ok: true, identity } : verdict;
    },

    verifyClientCertificate(chain, claimed) {
      const identity = registry?.get(claimed.deviceId, claimed.moduleId);
      if (!identity) return { ok: false, reason: `unknown identity ${identityName(claimed)}` };
      if (!ca) return { ok: false, reason: "the security component is not started" };
      const issuers = [ca.issuer.cert, ...(ca.previousEdgeCa ? [ca.previousEdgeCa] : [])];
      const verdict = checkClientCertificate(chain, {
        identity,
        spiffeId: spiffeIdOf(identity.deviceId, identity.moduleId),
        issuers: issuers.map((cert) => new Uint8Array(cert.rawData)),
        now: now(),
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

    onModuleSvidChange: (moduleId, listener) => runtimeFor(moduleId).svidListeners.add(listener),

    trustBundlePem() {
      return certificatesPem(trustBundleCertificates(requireStarted("give the trust bundle")));
    },

    addDevice(deviceId, auth) {
      const parsed = IdentityId.safeParse(deviceId);
      if (!parsed.success) {
        return Promise.reject(
          new RangeError(`Cannot add device "${deviceId}": ${parsed.error.issues[0]!.message}`),
        );
      }
      return exclusive(async () => {
        const state = requireStarted("add a device");
        const opened = await openRegistry();
        const identity: Identity = {
          deviceId,
          kind: "leaf-device",
          generationId: generateGenerationId(),
          auth: auth === "sas" ? newSasAuth() : { type: "x509-ca" },
          createdAt: now().toISOString(),
        };
        await opened.add(identity);
        logger.info("leaf device added", { device: deviceId, auth: identity.auth.type });
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
        if (identity.kind !== "leaf-device") {
          throw new RangeError(
            `Cannot remove ${identity.deviceId}: it is this edge device; only leaf devices can be removed`,
          );
        }
        await opened.remove(deviceId);
        for (const suffix of [".pem", ".key.pem"]) {
          await Deno.remove(`${pkiDir}/devices/${identity.deviceId}${suffix}`).catch(() => {});
        }
        logger.info("leaf device removed", { device: identity.deviceId });
        return true;
      });
    },

    certificates() {
      const state = requireStarted("list certificates");
      const at = now().getTime();
      const rows: [CertificateInfo["kind"], string, x509.X509Certificate, boolean][] = [];
      rows.push(["root-ca", "root CA", state.roots[0]!, !state.own]);
      for (const cert of state.roots.slice(1)) {
        rows.push(["previous-root-ca", "previous root CA", cert, false]);
      }
      rows.push(["edge-ca", "edge CA", state.issuer.cert, !state.own]);
      if (state.previousEdgeCa) {
        rows.push(["previous-edge-ca", "previous edge CA", state.previousEdgeCa, false]);
      }
      rows.push(["server", "hub server", server!.cert, true]);
      for (const runtime of modules.values()) {
        if (runtime.svid && !("unavailable" in runtime.svid)) {
          rows.push(["module", runtime.moduleId, runtime.svid.cert, true]);
        }
      }
      return rows.map(([kind, name, cert, renews]) => {
        const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
        return {
          kind,
          name,
          subject: cert.subject,
          sans: san?.names.items.map((item) => `${item.type}:${item.value}`) ?? [],
          serial: cert.serialNumber,
          notBefore: cert.notBefore.toISOString(),
          notAfter: cert.notAfter.toISOString(),
          daysLeft: Math.floor((cert.notAfter.getTime() - at) / 86400_000 * 10) / 10,
          renewAt: renews ? renewalOf(cert).toISOString() : undefined,
        };
      });
    },

    renew(options) {
      return exclusive(() => renewDue({ leaves: true, ca: options.ca }));
    },
  };
  return manager;
}
