/**
 * The agent's faces: what the rest of ledge (hub, upstream) uses ({@linkcode Agent}), what the
 * daemon and the management API use ({@linkcode AgentService}), and the shapes they exchange.
 */
import type { Deployment } from "./deployment.ts";
import type { EngineDriver, EngineInfo, LogOptions } from "./engine/driver.ts";
import type { ModuleProvisioner } from "./provisioner.ts";
import type { DesiredStatus, EdgeAgentReported, ReportedModule } from "./reported.ts";

/** What {@linkcode Agent.deploy} accepted. */
export interface DeployResult {
  /** `lastDesiredVersion` of the accepted deployment. */
  version: number;
  /** Modules it runs, in startup order. */
  modules: string[];
  /** Modules the createOptions policy denied (they report `failed`), with the reason. */
  denied: Record<string, string>;
  /**
   * Set when the parent sent content this device rolled back before: it was not applied again
   * (a different deployment is; a local `ledge deploy` always is).
   */
  rolledBack?: string;
}

/** Options of {@linkcode Agent.deploy}. */
export interface DeployOptions {
  /**
   * Where the manifest comes from: `local` (`ledge deploy`, the default) or `upstream` (the
   * parent's `$edgeAgent` twin), which may run process modules only when
   * `[agent.allow] process_modules_from_upstream` is true.
   */
  source?: "local" | "upstream";
  /**
   * Whether a deployment that does not run healthy within `agent.rollback_after_seconds` is
   * rolled back to the last one that did (default true; `ledge deploy --no-rollback`).
   */
  rollback?: boolean;
}

/** The agent as the rest of ledge (hub, upstream) uses it. */
export interface Agent {
  /**
   * Validates and applies a deployment manifest (the whole `modulesContent` JSON). Rejections
   * change nothing, set lastDesiredStatus (400/412/417) with the JSON path of the problem, and
   * throw a {@linkcode ManifestError}.
   */
  deploy(manifest: unknown, options?: DeployOptions): Promise<DeployResult>;
  /** The `$edgeAgent` reported properties as IoT Edge shapes them. */
  reported(): EdgeAgentReported;
  /** Calls `listener` when the reported properties change; returns the unsubscribe function. */
  onReportedChange(listener: (reported: EdgeAgentReported) => void): () => void;
  /**
   * Called with each accepted deployment, so the hub can take `$edgeHub` desired (routes,
   * storeAndForwardConfiguration) and the modules' initial desired twins.
   */
  onDeploymentAccepted(listener: (deployment: Deployment) => void): () => void;
  /** The last accepted deployment (persisted under <state>/agent/), if any. */
  current(): Deployment | undefined;
}

/** One row of `ledge list`. */
export interface ModuleSummary {
  name: string;
  type: string;
  /** runtimeStatus. */
  status: string;
  description: string;
  /** Image, or the command of a process module. */
  config: string;
  desiredStatus: string;
  restartCount: number;
  exitCode: number;
  system: boolean;
}

/** The agent with what the daemon and the management API need. */
export interface AgentService extends Agent {
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Deployment progress: whether the loop still has work, and the module rows. */
  status(): {
    version: number | undefined;
    lastDesiredStatus: DesiredStatus;
    converging: boolean;
    engine: string;
  };
  modules(): ModuleSummary[];
  /** The reported module, or undefined when the deployment has no such module. */
  module(name: string): ReportedModule | undefined;
  logs(name: string, options: LogOptions): Promise<ReadableStream<Uint8Array>>;
  restart(name: string): Promise<void>;
  startModule(name: string): Promise<void>;
  stopModule(name: string): Promise<void>;
  /** The engine in use, once started. */
  engineInfo(): EngineInfo | undefined;
}

/** Options of {@linkcode createAgent}. */
export interface AgentOptions {
  provisioner: ModuleProvisioner;
  /** The container engine driver; default: found from `[agent]` and the environment. */
  driver?: EngineDriver;
  /** Clock, ms since the epoch. */
  now?: () => number;
}
