/**
 * The security manager: ledge's own PKI and workload identity.
 *
 * On first start it creates a root CA and an issuing edge CA under `<state>/pki/` (or loads the
 * operator's CA), keeps the identity registry (the edge device, its modules, leaf devices), and
 * serves each module two APIs on sockets in `<state>/mnt/<module>/`: the IoT Edge workload API
 * (`workload.sock`: SAS signing, certificates, trust bundle) and the SPIFFE Workload API
 * (`spiffe.sock`: X.509- and JWT-SVIDs). Leaves renew at about 2/3 of their lifetime, the edge CA
 * before it expires with an overlap in the trust bundle; consumers subscribe to changes.
 *
 * @example
 * ```ts
 * const security = createSecurityComponent(context);
 * await security.start(signal);
 * const { generationId, socketDir } = await security.manager.provisionModule("sensor");
 * const verdict = security.manager.verifySasToken(token, { deviceId: "dev1", moduleId: "sensor" });
 * ```
 *
 * @module
 */
import type { Component, RuntimeContext } from "../core/component.ts";
import { createSecurityApi, SECURITY_API_DOCS } from "./mgmt_api.ts";

export type { SecurityApi } from "./mgmt_api.ts";
import {
  createSecurityManager,
  type SecurityManager,
  type SecurityManagerControl,
  type SecurityManagerOptions,
} from "./security_manager.ts";

export type {
  AuthenticatedIdentity,
  AuthVerdict,
  CertificateInfo,
  IdentityRemoval,
  ModuleProvision,
  SecurityManager,
  SecurityManagerControl,
  SecurityManagerOptions,
} from "./security_manager.ts";
export type { IdentityRegistry } from "./identity_registry.ts";
export type { ParentLink } from "./mgmt_api.ts";
export type { EnrollmentCandidate, EnrollmentSource } from "./enrollment_source.ts";
export type { AuthType, Identity, PublicIdentity } from "./identity.ts";
export { IdentityId, publicIdentity } from "./identity.ts";
export { connectionString, parentLink } from "./mgmt_api.ts";
export { parseCertificates, PkiFileError } from "./pki_files.ts";
export { SPIFFE_SOCKET, WORKLOAD_SOCKET } from "./module_sockets.ts";
export { WORKLOAD_API_VERSIONS } from "./workload_api.ts";

/** The security component: Component plus the manager the hub and agent use. */
export interface SecurityComponent extends Component {
  readonly manager: SecurityManager;
}

/** The component with the full manager, for tests and the management API. */
export interface SecurityComponentWithControl extends SecurityComponent {
  readonly manager: SecurityManagerControl;
}

/** Options of {@linkcode createSecurityComponent}: the manager's test seams and the hub's ports. */
export interface SecurityComponentOptions extends SecurityManagerOptions {
  /** The hub's bound ports, for the parent link printed to a new child edge device. */
  hubListeners?: () => Readonly<Record<string, number>>;
}

/**
 * Creates the security component of a daemon. `options` are test seams (clock, jitter) and the
 * hub's bound ports.
 */
export function createSecurityComponent(
  context: RuntimeContext,
  options: SecurityComponentOptions = {},
): SecurityComponentWithControl {
  const { hubListeners, ...managerOptions } = options;
  const manager = createSecurityManager(context, managerOptions);
  return {
    name: "security",
    manager,
    api: createSecurityApi(manager, context.config, hubListeners ? { hubListeners } : {}),
    apiDocs: SECURITY_API_DOCS,
    start: (signal) => manager.start(signal),
    stop: () => manager.stop(),
  };
}
