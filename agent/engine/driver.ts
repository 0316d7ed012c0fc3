/**
 * The engine driver interface: what the agent needs from whatever runs its modules (a container
 * engine through the Docker Engine API, or the process driver). A driver only ever sees and
 * touches the instances of its own ledge instance.
 */
import type { AdmittedContainer } from "../admission.ts";
import type { DesiredModule } from "../deployment.ts";
import type { ModuleInstance } from "../module_instance.ts";

/** What the engine says about itself. */
export interface EngineInfo {
  kind: "docker" | "process";
  /** "Podman Engine", "Docker Engine", "process". */
  name: string;
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

/** Everything a driver needs to create one module's instance. */
export interface CreateRequest {
  module: DesiredModule;
  /** The final environment: injected IOTEDGE_* variables and the deployment's env. */
  env: Record<string, string>;
  /** Host directory holding the module's `workload.sock` and `spiffe.sock`. */
  socketDir: string;
  /** Container network to join (ignored by the process driver and by explicit NetworkMode). */
  network: string;
  /** Host name of the hub, made to resolve to the host inside the container. */
  hubHostname: string;
  /**
   * The body the policy admitted at this moment; a container driver refuses a request without
   * one (the process driver does not use it).
   */
  container?: AdmittedContainer;
}

/** Options of {@linkcode EngineDriver.logs}. */
export interface LogOptions {
  follow?: boolean;
  /** Last N lines only. */
  tail?: number;
  /** Only lines since this time (Unix seconds). */
  since?: number;
  /** Prefix each line with its RFC 3339 time. */
  timestamps?: boolean;
  signal?: AbortSignal;
}

/** Something happened to one of this ledge's instances. */
export interface EngineEvent {
  /** Module name. */
  name: string;
  /** Docker's action: create, start, die, stop, destroy, health_status: unhealthy, ... */
  action: string;
  id: string;
}

/** One line of pull progress. */
export interface PullProgress {
  status: string;
  /** Layer id, when the line is about one layer. */
  layer?: string;
  current?: number;
  total?: number;
}

/** Credentials for a registry, as the engine's X-Registry-Auth takes them. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** Options of {@linkcode EngineDriver.pull}. */
export interface PullOptions {
  auth?: RegistryAuth;
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
}

/** An image present on the engine. */
export interface ImageInfo {
  /** `sha256:...`. */
  id: string;
  tags: string[];
}

/** Runs module instances. */
export interface EngineDriver {
  readonly kind: "docker" | "process";
  /** Asks the engine who it is; throws {@linkcode EngineUnavailableError} when unreachable. */
  info(signal?: AbortSignal): Promise<EngineInfo>;
  /** This ledge's instances. */
  list(signal?: AbortSignal): Promise<ModuleInstance[]>;
  inspect(name: string, signal?: AbortSignal): Promise<ModuleInstance | undefined>;
  /** Creates the module's instance (not started), labelled as this ledge's. */
  create(request: CreateRequest, signal?: AbortSignal): Promise<void>;
  start(name: string, signal?: AbortSignal): Promise<void>;
  /** Stops gracefully, killing after `timeoutSeconds`. */
  stop(name: string, options?: { timeoutSeconds?: number; signal?: AbortSignal }): Promise<void>;
  /** Removes the instance, killing it if it runs; a missing one is not an error. */
  remove(name: string, signal?: AbortSignal): Promise<void>;
  /** The instance's output (stdout and stderr merged) as text bytes. */
  logs(name: string, options?: LogOptions): Promise<ReadableStream<Uint8Array>>;
  /** Events of this ledge's instances until `signal` aborts or the stream drops (then it ends). */
  events(signal: AbortSignal): AsyncIterable<EngineEvent>;
  /** Pulls `image`, reporting progress; throws with the engine's message on failure. */
  pull(image: string, options?: PullOptions): Promise<void>;
  imageInspect(image: string, signal?: AbortSignal): Promise<ImageInfo | undefined>;
  /** Releases the driver's connections (instances keep running). */
  close(): Promise<void>;
}

/** The engine cannot be reached (socket missing or refusing). */
export class EngineUnavailableError extends Error {
  override name = "EngineUnavailableError";
}

/** The engine answered with an error; `status` is its HTTP status. */
export class EngineError extends Error {
  override name = "EngineError";
  readonly status: number;
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/** No instance by that name. */
export class NoSuchInstanceError extends Error {
  override name = "NoSuchInstanceError";
}
