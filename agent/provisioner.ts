/**
 * What the agent needs from the security manager: one identity and one socket directory per
 * module. The real `SecurityManager` satisfies this structurally.
 */

/** A module's identity on this device, and where its sockets are. */
export interface ModuleProvision {
  /** Changes when the identity is deleted and made again (IOTEDGE_MODULEGENERATIONID). */
  generationId: string;
  /** Host dir `<state>/mnt/<moduleId>/` holding `workload.sock` and `spiffe.sock`. */
  socketDir: string;
}

/** Gives modules their identities and sockets. */
export interface ModuleProvisioner {
  /** Idempotent: creates the identity and serves its sockets when needed. */
  provisionModule(moduleId: string): Promise<ModuleProvision>;
  /** Deletes the identity; a later provision gets a new generation id. */
  removeModule(moduleId: string): Promise<void>;
}
