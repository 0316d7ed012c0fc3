/**
 * The agent: accepts deployments (validate, admit, persist, hand to the loop), reports the
 * `$edgeAgent` properties, and serves the operator's requests (list, inspect, logs, restart,
 * start, stop). The pieces live beside it: admission.ts, reported_publisher.ts,
 * engine_startup.ts, module_rows.ts, operator_actions.ts; the loop is reconciler.ts.
 */
import type { RuntimeContext } from "../core/component.ts";
import {
  admitContainer,
  checkSource,
  deniedModules,
  type PolicyContext,
  policyContext,
  underPolicy,
} from "./admission.ts";
import type {
  AgentOptions,
  AgentService,
  DeployOptions,
  DeployResult,
  ModuleSummary,
} from "./agent_service.ts";
import { type Deployment, ManifestError, parseDeployment } from "./deployment.ts";
import type { EngineDriver, EngineInfo, LogOptions } from "./engine/driver.ts";
import { NoSuchInstanceError } from "./engine/driver.ts";
import { createProcessDriver } from "./engine/process_driver.ts";
import { connectEngine } from "./engine_startup.ts";
import { moduleRows } from "./module_rows.ts";
import {
  restartModule,
  restoreOverrides,
  saveOverrides,
  startModule,
  stopModule,
} from "./operator_actions.ts";
import { createReconciler, type Reconciler } from "./reconciler.ts";
import {
  buildReported,
  type DesiredStatus,
  type EdgeAgentReported,
  type ReportedModule,
} from "./reported.ts";
import { ReportedPublisher } from "./reported_publisher.ts";
import { RollbackGuard } from "./rollback.ts";
import { type AgentStore, openAgentStore, type StoredDeployment } from "./store.ts";

export type {
  Agent,
  AgentOptions,
  AgentService,
  DeployOptions,
  DeployResult,
  ModuleSummary,
} from "./agent_service.ts";

/** The agent; nothing runs until {@linkcode EdgeAgent.start}. */
export class EdgeAgent implements AgentService {
  readonly #context: RuntimeContext;
  readonly #options: AgentOptions;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #publisher: ReportedPublisher;
  readonly #acceptedListeners = new Set<(deployment: Deployment) => void>();
  #store: AgentStore | undefined;
  #reconciler: Reconciler | undefined;
  #guard: RollbackGuard | undefined;
  #engine: EngineDriver | undefined;
  #processDriver: EngineDriver | undefined;
  #engineSocket: string | undefined;
  #engineInfo: EngineInfo | undefined;
  #lastDesiredVersion: number | undefined;
  #lastDesiredStatus: DesiredStatus = { code: 406, description: "no deployment yet" };
  #deploying: Promise<unknown> = Promise.resolve();

  constructor(context: RuntimeContext, options: AgentOptions) {
    this.#context = context;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#publisher = new ReportedPublisher(() => this.reported(), context.logger);
  }

  deploy(manifest: unknown, options: DeployOptions = {}): Promise<DeployResult> {
    const result = this.#deploying.then(() => this.#deployNow(manifest, options));
    this.#deploying = result.catch(() => {});
    return result;
  }

  reported(): EdgeAgentReported {
    const v = this.#reconciler?.view();
    return buildReported({
      deployment: v?.desired,
      lastDesiredVersion: this.#lastDesiredVersion,
      lastDesiredStatus: this.#lastDesiredStatus,
      instances: v?.instances ?? new Map(),
      statuses: v?.statuses ?? new Map(),
      stats: v?.stats ?? new Map(),
      platform: { os: Deno.build.os, architecture: Deno.build.arch, version: Deno.osRelease() },
      startedAt: this.#startedAt,
      health: this.#guard?.health(),
    });
  }

  onReportedChange(listener: (reported: EdgeAgentReported) => void): () => void {
    return this.#publisher.subscribe(listener);
  }

  onDeploymentAccepted(listener: (deployment: Deployment) => void): () => void {
    this.#acceptedListeners.add(listener);
    return () => this.#acceptedListeners.delete(listener);
  }

  current(): Deployment | undefined {
    return this.#reconciler?.view().desired;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { config, logger, stateDir } = this.#context;
    const store = await openAgentStore(stateDir);
    this.#store = store;
    this.#publisher.store = store;
    await this.#loadStatus(store);
    this.#guard = new RollbackGuard({
      afterSeconds: config.agent.rollback_after_seconds,
      now: this.#now,
      files: store,
      view: () => this.#reconciler?.view(),
      rollback: (good, from, reason) => this.#rollBack(good, from, reason),
      onChange: () => this.#publisher.schedule(),
      logger,
    });
    await this.#guard.load();
    const engine = await connectEngine(this.#context, this.#options.driver, signal);
    this.#engine = engine.driver;
    this.#engineSocket = engine.socket;
    this.#engineInfo = engine.info;
    this.#processDriver = createProcessDriver({ logDir: `${store.dir}/logs` });
    this.#reconciler = createReconciler({
      engine: this.#engine,
      process: this.#processDriver,
      provisioner: this.#options.provisioner,
      admit: (module) => admitContainer(module, this.#policy()),
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
      now: this.#now,
      onChange: () => {
        this.#publisher.schedule();
        this.#guard?.check();
      },
    });
    await this.#reapplyStored(store);
    this.#reconciler.start();
  }

  async stop(): Promise<void> {
    this.#guard?.stop();
    await this.#deploying;
    await this.#reconciler?.stop();
    await this.#processDriver?.close();
    if (!this.#options.driver) await this.#engine?.close();
    await this.#publisher.close();
  }

  status(): ReturnType<AgentService["status"]> {
    const v = this.#view();
    return {
      version: v.desired?.version,
      lastDesiredStatus: this.#lastDesiredStatus,
      converging: v.converging,
      engine: v.engine,
    };
  }

  modules(): ModuleSummary[] {
    return moduleRows({
      view: this.#view(),
      reported: this.reported(),
      startedAt: this.#startedAt,
      now: this.#now(),
    });
  }

  module(name: string): ReportedModule | undefined {
    return this.reported().modules[name];
  }

  async logs(name: string, options: LogOptions): Promise<ReadableStream<Uint8Array>> {
    const module = this.#requireModule(name);
    const driver = this.#reconciler!.driverFor(module.type);
    if (!driver) throw new Error(`Cannot read the logs of ${name}: no container engine`);
    return await driver.logs(name, options);
  }

  async restart(name: string): Promise<void> {
    await restartModule(this.#reconciler!, this.#requireModule(name), this.#context.logger);
    await saveOverrides(this.#reconciler!, this.#store!);
  }

  async startModule(name: string): Promise<void> {
    await startModule(this.#reconciler!, this.#requireModule(name));
    await saveOverrides(this.#reconciler!, this.#store!);
  }

  async stopModule(name: string): Promise<void> {
    await stopModule(this.#reconciler!, this.#requireModule(name));
    await saveOverrides(this.#reconciler!, this.#store!);
  }

  engineInfo(): EngineInfo | undefined {
    return this.#engineInfo;
  }

  #view() {
    if (!this.#reconciler) throw new Error("Cannot answer: the agent is not started");
    return this.#reconciler.view();
  }

  #requireModule(name: string) {
    const module = this.#view().desired?.modules.find((m) => m.name === name);
    if (!module) {
      throw new NoSuchInstanceError(`Cannot find module "${name}": it is not in the deployment`);
    }
    return module;
  }

  async #loadStatus(store: AgentStore): Promise<void> {
    const status = await store.loadStatus().catch((error) => {
      this.#context.logger.warn("cannot read the last desired status", { error });
      return undefined;
    });
    if (status) {
      this.#lastDesiredVersion = status.lastDesiredVersion;
      this.#lastDesiredStatus = status.lastDesiredStatus;
    }
  }

  async #saveStatus(): Promise<void> {
    await this.#store?.saveStatus({
      ...(this.#lastDesiredVersion === undefined
        ? {}
        : { lastDesiredVersion: this.#lastDesiredVersion }),
      lastDesiredStatus: this.#lastDesiredStatus,
    });
  }

  /** Offline autonomy: the last accepted deployment runs again at start-up. */
  async #reapplyStored(store: AgentStore): Promise<void> {
    const { logger } = this.#context;
    const stored = await store.loadDeployment().catch((error) => {
      logger.error("cannot read the last deployment", { error });
      return undefined;
    });
    if (!stored) return;
    try {
      const deployment = parseDeployment(stored.manifest, {
        version: stored.version,
        ...this.#upstreamHost(),
      });
      await this.#apply(deployment);
      await restoreOverrides(this.#reconciler!, store, logger);
      // A deployment that never ran healthy is watched again from now.
      if (this.#guard!.isGood(stored)) this.#guard!.trust(deployment);
      else this.#guard!.watch(deployment, stored, stored.rollback !== false);
      logger.info("re-applying the last accepted deployment", { version: deployment.version });
    } catch (error) {
      logger.error("the saved deployment is no longer valid; waiting for a new one", { error });
    }
  }

  /** The device policy now (the engine socket is known once the engine is connected). */
  #policy(): PolicyContext {
    const { config, stateDir } = this.#context;
    return policyContext(config, stateDir, this.#engineSocket);
  }

  async #apply(deployment: Deployment): Promise<Record<string, string>> {
    const { logger } = this.#context;
    const policy = this.#policy();
    const denied = await deniedModules(deployment, policy);
    for (const [name, reason] of Object.entries(denied)) {
      logger.warn(`module ${name} denied`, { reason });
    }
    this.#reconciler?.setDesired(underPolicy(deployment, policy), denied);
    for (const listener of this.#acceptedListeners) {
      try {
        listener(deployment);
      } catch (error) {
        logger.error("a deployment listener failed", { error });
      }
    }
    return denied;
  }

  /** `$upstream` in image references names the parent (its pull-through registry cache). */
  #upstreamHost(): { upstreamHost?: string } {
    const upstream = this.#context.config.upstream;
    return upstream.enabled ? { upstreamHost: upstream.hostname } : {};
  }

  /** Goes back to `good` after `from` failed its health check (serialized with deploys). */
  #rollBack(good: StoredDeployment, from: Deployment, reason: string): Promise<void> {
    const run = this.#deploying.then(async () => {
      const deployment = parseDeployment(good.manifest, { version: good.version });
      await this.#store!.saveDeployment(good);
      this.#lastDesiredVersion = from.version;
      this.#lastDesiredStatus = {
        code: 500,
        description: reason,
        rolledBackFrom: from.version,
        runningVersion: good.version,
      };
      await this.#saveStatus();
      await this.#apply(deployment);
      await saveOverrides(this.#reconciler!, this.#store!);
      this.#publisher.schedule();
    });
    this.#deploying = run.catch(() => {});
    return run.catch((error) => {
      this.#context.logger.error("cannot roll back", { error });
    });
  }

  async #deployNow(manifest: unknown, options: DeployOptions): Promise<DeployResult> {
    const { config, logger } = this.#context;
    let deployment: Deployment;
    try {
      deployment = parseDeployment(manifest, {
        version: (this.#lastDesiredVersion ?? 0) + 1,
        ...this.#upstreamHost(),
      });
      checkSource(deployment, options.source ?? "local", config.agent.allow);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      this.#lastDesiredStatus = { code: error.code, description: error.message };
      logger.warn("deployment rejected", { code: error.code, reason: error.message });
      await this.#saveStatus();
      this.#publisher.schedule();
      throw error;
    }
    if (!this.#store || !this.#reconciler || !this.#guard) {
      throw new Error("Cannot deploy: the agent is not started");
    }
    const modules = deployment.modules.map((m) => m.name);
    const rolledBack = options.source === "upstream"
      ? this.#guard.rolledBack(deployment.manifest)
      : undefined;
    if (rolledBack !== undefined) {
      // The parent re-sent what this device rolled back: say so again, run what runs.
      this.#lastDesiredVersion = deployment.version;
      this.#lastDesiredStatus = {
        code: 500,
        description: rolledBack.reason,
        rolledBackFrom: rolledBack.version,
        ...(rolledBack.runningVersion === undefined
          ? {}
          : { runningVersion: rolledBack.runningVersion }),
      };
      await this.#saveStatus();
      this.#publisher.schedule();
      return { version: deployment.version, modules, denied: {}, rolledBack: rolledBack.reason };
    }
    const stored: StoredDeployment = {
      version: deployment.version,
      acceptedAt: new Date(this.#now()).toISOString(),
      manifest: deployment.manifest,
      ...(options.rollback === false ? { rollback: false } : {}),
    };
    await this.#store.saveDeployment(stored);
    await this.#store.saveRolledBack(undefined);
    this.#lastDesiredVersion = deployment.version;
    this.#lastDesiredStatus = { code: 200, description: "" };
    await this.#saveStatus();
    const denied = await this.#apply(deployment);
    await saveOverrides(this.#reconciler, this.#store);
    this.#guard.watch(deployment, stored, options.rollback !== false);
    logger.info("deployment accepted", { version: deployment.version, modules });
    this.#publisher.schedule();
    return { version: deployment.version, modules, denied };
  }
}

/** Builds the agent; nothing runs until {@linkcode AgentService.start}. */
export function createAgent(context: RuntimeContext, options: AgentOptions): AgentService {
  return new EdgeAgent(context, options);
}
