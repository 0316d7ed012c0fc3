/**
 * What a driver observes of one module it runs: a container, or a child process.
 */

/** Lifecycle state of an instance, as Docker names them. */
export type InstanceState =
  | "created"
  | "running"
  | "paused"
  | "restarting"
  | "removing"
  | "exited"
  | "dead";

/** Health from the engine's healthcheck; `none` when the image has none. */
export type InstanceHealth = "none" | "starting" | "healthy" | "unhealthy";

/** One module instance as observed now. */
export interface ModuleInstance {
  /** Module name (from the instance's labels). */
  name: string;
  /** Engine id of the container, or the process driver's id. */
  id: string;
  type: "docker" | "process";
  state: InstanceState;
  health: InstanceHealth;
  /** Exit code of the last run; 0 before any exit. */
  exitCode: number;
  /** Start of the current or last run (ms since the epoch); undefined when never started. */
  startedAt: number | undefined;
  /** End of the last run (ms since the epoch); undefined when it has not exited yet. */
  finishedAt: number | undefined;
  /** The config hash it was created from (a label). */
  configHash: string;
  /** Image id (`sha256:...`) the container runs; empty for processes. */
  imageId: string;
  /** The engine's own error for this instance (e.g. why it could not start), if any. */
  error: string;
}
