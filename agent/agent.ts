/**
 * The agent: accepts deployments (validate, check the createOptions policy, persist, hand to
 * the loop), reports the `$edgeAgent` properties, and serves the operator's requests (list,
 * inspect, logs, restart, start, stop).
 */
import type { RuntimeContext } from "../core/component.ts";
import {
  checkCreateOptions,
  KNOWN_ENGINE_SOCKETS,
  type PolicyContext,
} from "./create_options_policy.ts";
import { type Deployment, formatJsonPath, ManifestError, parseDeployment } from "./deployment.ts";
import { createDockerDriver } from "./engine/docker_driver.ts";
import type { EngineDriver, EngineInfo, LogOptions } from "./engine/driver.ts";
import { NoSuchInstanceError } from "./engine/driver.ts";
import { ledgeInstanceId } from "./engine/labels.ts";
import { createProcessDriver } from "./engine/process_driver.ts";
import { findEngineSocket } from "./engine/select_engine.ts";
import type { ModuleProvisioner } from "./provisioner.ts";
import { createReconciler, type Reconciler } from "./reconciler.ts";
import {
  buildReported,
  type DesiredStatus,
  type EdgeAgentReported,
  type ReportedModule,
} from "./reported.ts";
import { type AgentStore, openAgentStore } from "./store.ts";

/** What {@linkcode Agent.deploy} accepted. */
export interface DeployResult {
  /** `lastDesiredVersion` of the accepted deployment. */
  version: number;
  /** Modules it runs, in startup order. */
  modules: string[];
  /** Modules the createOptions policy denied (they report `failed`), with the reason. */
  denied: Record<string, string>;
}

/** Options of {@linkcode Agent.deploy}. */
export interface DeployOptions {
  /**
   * Where the manifest comes from: `local` (`ledge deploy`, the default) or `upstream` (the
   * parent's `$edgeAgent` twin), which may run process modules only when
   * `[agent.allow] process_modules_from_upstream` is true.
   */
  source?: "local" | "upstream";
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

function describeUptime(startedAt: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - startedAt) / 1000));
  if (seconds < 60) return `Up ${seconds} seconds`;
  if (seconds < 3600) return `Up ${Math.round(seconds / 60)} minutes`;
  if (seconds < 172800) return `Up ${Math.round(seconds / 3600)} hours`;
  return `Up ${Math.round(seconds / 86400)} days`;
}

/** Builds the agent; nothing runs until {@linkcode AgentService.start}. */
export function createAgent(context: RuntimeContext, options: AgentOptions): AgentService {
  const { config, logger } = context;
  const now = options.now ?? Date.now;
  const startedAt = now();
  const reportedListeners = new Set<(reported: EdgeAgentReported) => void>();
  const acceptedListeners = new Set<(deployment: Deployment) => void>();
  let store: AgentStore | undefined;
  let reconciler: Reconciler | undefined;
  let engine: EngineDriver | undefined;
  let processDriver: EngineDriver | undefined;
  let engineSocket: string | undefined;
  let engineInfo: EngineInfo | undefined;
  let lastDesiredVersion: number | undefined;
  let lastDesiredStatus: DesiredStatus = { code: 406, description: "no deployment yet" };
  let deploying: Promise<unknown> = Promise.resolve();
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let lastSent = "";
  let saving: Promise<void> = Promise.resolve();

  function view() {
    if (!reconciler) throw new Error("Cannot answer: the agent is not started");
    return reconciler.view();
  }

  function reported(): EdgeAgentReported {
    const v = reconciler?.view();
    return buildReported({
      deployment: v?.desired,
      lastDesiredVersion,
      lastDesiredStatus,
      instances: v?.instances ?? new Map(),
      statuses: v?.statuses ?? new Map(),
      stats: v?.stats ?? new Map(),
      platform: { os: Deno.build.os, architecture: Deno.build.arch, version: Deno.osRelease() },
      startedAt,
    });
  }

  function flushReported() {
    flushTimer = undefined;
    const current = reported();
    const text = JSON.stringify(current);
    if (text === lastSent) return;
    lastSent = text;
    const target = store;
    if (target) {
      saving = saving.then(() => target.saveReported(current)).catch((error) =>
        logger.warn("cannot save the reported properties", { error })
      );
    }
    for (const listener of reportedListeners) {
      try {
        listener(current);
      } catch (error) {
        logger.error("a reported-properties listener failed", { error });
      }
    }
  }

  function scheduleReport() {
    flushTimer ??= setTimeout(flushReported, 50);
  }

  function policyContext(): PolicyContext {
    return {
      allow: config.agent.allow,
      stateDir: context.stateDir,
      engineSockets: engineSocket
        ? [engineSocket, ...KNOWN_ENGINE_SOCKETS]
        : [...KNOWN_ENGINE_SOCKETS],
    };
  }

  function deniedModules(deployment: Deployment): Record<string, string> {
    const denied: Record<string, string> = {};
    const policy = policyContext();
    for (const module of deployment.modules) {
      if (module.type !== "docker") continue;
      const violations = checkCreateOptions(module.createOptions, policy);
      if (violations.length > 0) {
        denied[module.name] = `createOptions denied: ${violations.join("; ")}`;
      }
    }
    return denied;
  }

  async function saveStatus() {
    await store?.saveStatus({
      ...(lastDesiredVersion === undefined ? {} : { lastDesiredVersion }),
      lastDesiredStatus,
    });
  }

  function apply(deployment: Deployment) {
    const denied = deniedModules(deployment);
    for (const [name, reason] of Object.entries(denied)) {
      logger.warn(`module ${name} denied`, { reason });
    }
    reconciler?.setDesired(deployment, denied);
    for (const listener of acceptedListeners) {
      try {
        listener(deployment);
      } catch (error) {
        logger.error("a deployment listener failed", { error });
      }
    }
    return denied;
  }

  /** Process modules run host commands: from the parent only where the device allows it. */
  function checkSource(deployment: Deployment, source: "local" | "upstream"): void {
    if (source !== "upstream" || config.agent.allow.process_modules_from_upstream) return;
    const issues = deployment.modules.filter((module) => module.type === "process").map((
      module,
    ) => ({
      path: formatJsonPath([
        "modulesContent",
        "$edgeAgent",
        "properties.desired",
        "modules",
        module.name,
        "type",
      ]),
      message:
        'a "process" module from the parent is denied by the device policy (agent.allow.process_modules_from_upstream)',
    }));
    if (issues.length > 0) throw new ManifestError(400, issues);
  }

  async function deployNow(manifest: unknown, options: DeployOptions): Promise<DeployResult> {
    let deployment: Deployment;
    try {
      deployment = parseDeployment(manifest, { version: (lastDesiredVersion ?? 0) + 1 });
      checkSource(deployment, options.source ?? "local");
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      lastDesiredStatus = { code: error.code, description: error.message };
      logger.warn("deployment rejected", { code: error.code, reason: error.message });
      await saveStatus();
      scheduleReport();
      throw error;
    }
    if (!store || !reconciler) throw new Error("Cannot deploy: the agent is not started");
    await store.saveDeployment({
      version: deployment.version,
      acceptedAt: new Date(now()).toISOString(),
      manifest: deployment.manifest,
    });
    lastDesiredVersion = deployment.version;
    lastDesiredStatus = { code: 200, description: "" };
    await saveStatus();
    const denied = apply(deployment);
    logger.info("deployment accepted", {
      version: deployment.version,
      modules: deployment.modules.map((m) => m.name),
    });
    scheduleReport();
    return { version: deployment.version, modules: deployment.modules.map((m) => m.name), denied };
  }

  function requireModule(name: string) {
    const module = view().desired?.modules.find((m) => m.name === name);
    if (!module) {
      throw new NoSuchInstanceError(`Cannot find module "${name}": it is not in the deployment`);
    }
    return module;
  }

  return {
    deploy(manifest, options = {}) {
      const result = deploying.then(() => deployNow(manifest, options));
      deploying = result.catch(() => {});
      return result;
    },
    reported,
    onReportedChange(listener) {
      reportedListeners.add(listener);
      return () => reportedListeners.delete(listener);
    },
    onDeploymentAccepted(listener) {
      acceptedListeners.add(listener);
      return () => acceptedListeners.delete(listener);
    },
    current: () => reconciler?.view().desired,

    async start(signal) {
      store = await openAgentStore(context.stateDir);
      const status = await store.loadStatus().catch((error) => {
        logger.warn("cannot read the last desired status", { error });
        return undefined;
      });
      if (status) {
        lastDesiredVersion = status.lastDesiredVersion;
        lastDesiredStatus = status.lastDesiredStatus;
      }
      if (options.driver) engine = options.driver;
      else {
        engineSocket = await findEngineSocket(config.agent, Deno.env.toObject());
        if (engineSocket) {
          engine = createDockerDriver({
            socketPath: engineSocket,
            instance: ledgeInstanceId(context.stateDir),
          });
        }
      }
      processDriver = createProcessDriver({ logDir: `${store.dir}/logs` });
      if (engine) {
        engineInfo = await engine.info(AbortSignal.any([signal, AbortSignal.timeout(3000)])).catch(
          (error) => {
            logger.warn("the container engine does not answer yet", {
              socket: engineSocket,
              error,
            });
            return undefined;
          },
        );
        if (engineInfo) {
          logger.info("container engine", {
            name: engineInfo.name,
            version: engineInfo.version,
            socket: engineSocket,
          });
        }
      } else logger.info("no container engine: only process modules run");
      reconciler = createReconciler({
        engine,
        process: processDriver,
        provisioner: options.provisioner,
        device: {
          deviceId: config.device.id,
          iothubHostname: config.device.iothub_hostname,
          gatewayHostname: config.device.hostname,
        },
        network: config.agent.network,
        backoff: {
          baseSeconds: config.agent.backoff_base_seconds,
          maxSeconds: config.agent.backoff_max_seconds,
          resetSeconds: config.agent.backoff_reset_seconds,
        },
        logger,
        now,
        onChange: scheduleReport,
      });
      const stored = await store.loadDeployment().catch((error) => {
        logger.error("cannot read the last deployment", { error });
        return undefined;
      });
      if (stored) {
        try {
          const deployment = parseDeployment(stored.manifest, { version: stored.version });
          apply(deployment);
          logger.info("re-applying the last accepted deployment", { version: deployment.version });
        } catch (error) {
          logger.error("the saved deployment is no longer valid; waiting for a new one", { error });
        }
      }
      reconciler.start();
    },

    async stop() {
      await deploying;
      await reconciler?.stop();
      await processDriver?.close();
      if (!options.driver) await engine?.close();
      if (flushTimer !== undefined) clearTimeout(flushTimer);
      flushReported();
      await saving;
    },

    status() {
      const v = view();
      return {
        version: v.desired?.version,
        lastDesiredStatus,
        converging: v.converging,
        engine: v.engine,
      };
    },

    modules() {
      const v = view();
      const report = reported();
      const time = now();
      const rows: ModuleSummary[] = Object.entries(report.systemModules).map(([name, m]) => ({
        name,
        type: "ledge",
        status: m.runtimeStatus,
        description: describeUptime(startedAt, time),
        config: typeof m.settings.image === "string" ? m.settings.image : "",
        desiredStatus: "running",
        restartCount: 0,
        exitCode: 0,
        system: true,
      }));
      for (const module of v.desired?.modules ?? []) {
        const m = report.modules[module.name]!;
        const instance = v.instances.get(module.name);
        const description = m.runtimeStatus === "running" && instance?.startedAt !== undefined
          ? describeUptime(instance.startedAt, time)
          : m.runtimeStatus === "backoff" && m.restartCount > 0
          ? `${m.statusDescription} (restart count ${m.restartCount})`
          : m.statusDescription;
        rows.push({
          name: module.name,
          type: module.type,
          status: m.runtimeStatus,
          description,
          config: module.type === "process"
            ? [module.process?.command, ...(module.process?.args ?? [])].join(" ")
            : module.image,
          desiredStatus: module.status,
          restartCount: m.restartCount,
          exitCode: m.exitCode,
          system: false,
        });
      }
      return rows;
    },

    module(name) {
      return reported().modules[name];
    },

    async logs(name, logOptions) {
      const module = requireModule(name);
      const driver = reconciler!.driverFor(module.type);
      if (!driver) throw new Error(`Cannot read the logs of ${name}: no container engine`);
      return await driver.logs(name, logOptions);
    },

    async restart(name) {
      const module = requireModule(name);
      const r = reconciler!;
      await r.operate(async () => {
        const driver = r.driverFor(module.type);
        if (!driver) throw new Error(`Cannot restart ${name}: no container engine`);
        r.resetStats(name);
        r.setOverride(name, undefined);
        await driver.stop(name, { timeoutSeconds: 10 });
        await driver.start(name);
        logger.info(`restarted ${name} on request`);
      });
    },

    async startModule(name) {
      const module = requireModule(name);
      const r = reconciler!;
      await r.operate(async () => {
        r.resetStats(name);
        r.setOverride(name, module.status === "stopped" ? "running" : undefined);
        const instance = await r.driverFor(module.type)?.inspect(name);
        if (instance && instance.state !== "running") await r.driverFor(module.type)!.start(name);
      });
    },

    async stopModule(name) {
      requireModule(name);
      const r = reconciler!;
      await r.operate(() => {
        r.setOverride(name, "stopped");
        return Promise.resolve();
      });
    },

    engineInfo: () => engineInfo,
  };
}
