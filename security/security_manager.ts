/**
 * The security manager: the CA, the identity registry, the per-module workload sockets, and the
 * renewal of everything that expires. The hub and the agent use it through
 * {@linkcode SecurityManager}; the management API through the extra methods of
 * {@linkcode SecurityManagerControl}. Its parts live beside it: renewal_scheduler.ts,
 * module_workloads.ts, device_admin.ts, authentication.ts, over the shared _security_state.ts.
 */
import type { RuntimeContext } from "../core/component.ts";
import { type SecurityManagerOptions, SecurityState } from "./_security_state.ts";
import { identityIsCurrent, verifyClientCertificate, verifySasToken } from "./authentication.ts";
import { type CaState, certificatesPem, loadOrCreateCa } from "./certificate_authority.ts";
import { describeCertificates } from "./certificate_listing.ts";
import { addDevice, checkNewDevice, removeDevice } from "./device_admin.ts";
import { generateGenerationId, newSasAuth } from "./identity.ts";
import type { IdentityRegistry } from "./identity_registry.ts";
import { loadOrCreateJwtSigners } from "./jwt_svid.ts";
import { loadServerCertificate } from "./leaf_store.ts";
import {
  checkModuleId,
  closeModuleSockets,
  provisionModule,
  removeModule,
  runtimeFor,
  serveModule,
} from "./module_workloads.ts";
import { RenewalScheduler } from "./renewal_scheduler.ts";
import type { CertificateInfo, SecurityManagerControl } from "./security_manager_api.ts";

export type * from "./security_manager_api.ts";
export type { SecurityManagerOptions } from "./_security_state.ts";

const NO_REGISTRY: IdentityRegistry = {
  get: () => undefined,
  list: () => [],
  modulesOf: () => [],
};

/** Warns loudly when the clock is before the CA's notBefore (peers would refuse everything). */
function checkClock(state: SecurityState, ca: CaState): void {
  const at = state.now();
  const notBefore = Math.max(...[ca.roots[0]!, ca.issuer.cert].map((c) => c.notBefore.getTime()));
  if (at.getTime() < notBefore) {
    state.clockWarning = `the system clock (${at.toISOString()}) is before the CA's notBefore (${
      new Date(notBefore).toISOString()
    }): certificates will look invalid to peers; fix the clock (NTP)`;
    state.logger.error(`CLOCK LOOKS WRONG: ${state.clockWarning}`);
  }
}

/** Loads (or creates) the PKI and the registry, renews what is due, serves every module. */
async function startSecurity(
  state: SecurityState,
  scheduler: RenewalScheduler,
  signal: AbortSignal,
): Promise<void> {
  const { config, logger } = state;
  const begun = performance.now();
  const opened = await state.openRegistry();
  signal.throwIfAborted();
  const ca = state.ca = await loadOrCreateCa(state.settings, { now: state.now(), logger });
  state.jwt = await loadOrCreateJwtSigners(state.pkiDir);
  checkClock(state, ca);
  if (!opened.get(config.device.id)) {
    await opened.add({
      deviceId: config.device.id,
      kind: "edge-device",
      generationId: generateGenerationId(),
      auth: newSasAuth(),
      createdAt: state.now().toISOString(),
    });
  }
  state.server = await loadServerCertificate(state.pkiDir, ca.issuer, logger);
  state.started = true;
  for (const identity of opened.modulesOf(config.device.id)) runtimeFor(state, identity.moduleId!);
  await scheduler.renewDue();
  for (const runtime of state.modules.values()) {
    signal.throwIfAborted();
    await serveModule(state, runtime);
  }
  logger.info("security started", {
    trustDomain: config.security.trust_domain,
    modules: state.modules.size,
    ownCa: ca.own,
    ms: Math.round(performance.now() - begun),
  });
}

function certificates(state: SecurityState, scheduler: RenewalScheduler): CertificateInfo[] {
  const ca = state.requireStarted("list certificates");
  const svids = [...state.modules.values()].flatMap((runtime) =>
    runtime.svid && !("unavailable" in runtime.svid)
      ? [{ name: runtime.moduleId, cert: runtime.svid.cert }]
      : []
  );
  return describeCertificates(ca, {
    server: state.server!.cert,
    svids,
    now: state.now(),
    renewalOf: (cert) => scheduler.renewalOf(cert),
  });
}

/** Creates the manager for `context`; {@linkcode SecurityManagerControl.start} loads the PKI. */
export function createSecurityManager(
  context: RuntimeContext,
  options: SecurityManagerOptions = {},
): SecurityManagerControl {
  const state = new SecurityState(context.config, context.stateDir, context.logger, options);
  const scheduler = new RenewalScheduler(state);
  return {
    get registry(): IdentityRegistry {
      return state.registry ?? NO_REGISTRY;
    },
    get trustDomain() {
      return state.config.security.trust_domain;
    },
    get clockWarning() {
      return state.clockWarning;
    },
    start: (signal) => state.exclusive(() => startSecurity(state, scheduler, signal)),
    stop: () =>
      state.exclusive(async () => {
        state.started = false;
        scheduler.stop();
        await closeModuleSockets(state);
      }),
    provisionModule(moduleId) {
      try {
        checkModuleId(moduleId);
      } catch (error) {
        return Promise.reject(error);
      }
      return state.exclusive(() => provisionModule(state, scheduler, moduleId));
    },
    removeModule: (moduleId) => state.exclusive(() => removeModule(state, scheduler, moduleId)),
    verifySasToken: (token, claimed) => verifySasToken(state, token, claimed),
    verifyClientCertificate: (chain, claimed) => verifyClientCertificate(state, chain, claimed),
    isIdentityCurrent: (identity) => identityIsCurrent(state, identity),
    onIdentityRemoved: (listener) => state.removalListeners.add(listener),
    setEnrollments(source) {
      state.enrollments = source;
    },
    serverTls() {
      state.requireStarted("give the server TLS credentials");
      const server = state.server!;
      return {
        certPem: certificatesPem([server.cert]),
        keyPem: server.keyPem,
        chainPem: server.chainPem,
      };
    },
    onServerTlsChange: (listener) => state.serverListeners.add(listener),
    onModuleSvidChange: (moduleId, listener) =>
      runtimeFor(state, moduleId).svidListeners.add(listener),
    trustBundlePem: () => state.trustBundlePem(),
    addDevice(deviceId, auth, addOptions = {}) {
      const edge = addOptions.edge === true;
      try {
        checkNewDevice(deviceId, auth, edge);
      } catch (error) {
        return Promise.reject(error);
      }
      return state.exclusive(() => addDevice(state, deviceId, { auth, edge }));
    },
    removeDevice: (deviceId) => state.exclusive(() => removeDevice(state, deviceId)),
    certificates: () => certificates(state, scheduler),
    renew: (renewOptions) =>
      state.exclusive(() => scheduler.renewDue({ leaves: true, ca: renewOptions.ca })),
  };
}
