/**
 * The interfaces of the security manager: {@linkcode SecurityManager} for the hub and the agent,
 * {@linkcode SecurityManagerControl} for the daemon and the management API.
 */
import type { IdentityRef } from "../iothub/mod.ts";
import type { EnrollmentSource } from "./enrollment_source.ts";
import type { Identity } from "./identity.ts";
import type { IdentityRegistry } from "./identity_registry.ts";
import type { AuthenticatedIdentity, IdentityRemoval } from "./identity_removal.ts";

export type { AuthenticatedIdentity, IdentityRemoval } from "./identity_removal.ts";

/**
 * The verdict of an authentication check. An identity not registered here but derived from a
 * child edge device's key carries `via`, the child's id.
 */
export type AuthVerdict =
  | { ok: true; identity: Identity & { via?: string } }
  | { ok: false; reason: string };

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
  verifySasToken(token: string, claimed: IdentityRef): AuthVerdict;
  /** Checks a TLS client certificate chain (DER, leaf first) presented for an identity. */
  verifyClientCertificate(
    chain: readonly Uint8Array[],
    claimed: IdentityRef,
  ): AuthVerdict;
  /** The hub's TLS server credentials. */
  serverTls(): { certPem: string; keyPem: string; chainPem: string };
  /** Called after the server certificate renews; returns the unsubscribe function. */
  onServerTlsChange(listener: () => void): () => void;
  /** PEM trust bundle (roots and, during CA overlap, old and new). */
  trustBundlePem(): string;
  /**
   * Called synchronously after an identity's removal is persisted (`ledge identity rm`, a module
   * dropped from the deployment): close what `removal.covers`. Returns the unsubscribe function.
   */
  onIdentityRemoved(listener: (removal: IdentityRemoval) => void): () => void;
  /**
   * O(1): false once `identity` (as a verdict returned it) was removed, or re-created with another
   * generation, or the child edge device it derives from was.
   */
  isIdentityCurrent(identity: AuthenticatedIdentity): boolean;
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

/** A leaf or child edge device added by the operator. */
export interface AddedDevice {
  identity: Identity;
  certificateFile?: string;
  keyFile?: string;
}

/** The manager with its lifecycle and the operator's actions. */
export interface SecurityManagerControl extends SecurityManager {
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /**
   * Registers a leaf device, or with `edge` a child edge device (SAS only), whose modules and
   * devices below authenticate with keys derived from its key.
   */
  addDevice(
    deviceId: string,
    auth: "sas" | "x509",
    options?: { edge?: boolean },
  ): Promise<AddedDevice>;
  removeDevice(deviceId: string): Promise<boolean>;
  certificates(): CertificateInfo[];
  /**
   * Sets the enrollment groups devices may register through on their first connect (zero-touch
   * enrollment), or none.
   */
  setEnrollments(source: EnrollmentSource | undefined): void;
  /** Renews every leaf now; with `ca`, the edge CA first. */
  renew(options: { ca: boolean }): Promise<void>;
  /** Subscribes to one module's SVID rotations. */
  onModuleSvidChange(moduleId: string, listener: () => void): () => void;
  /** The trust domain SPIFFE IDs live in. */
  readonly trustDomain: string;
  /** Set when the clock looked wrong at start (before the CA's notBefore). */
  readonly clockWarning: string | undefined;
}
