/**
 * The reconcile loop: observe the instances, plan, execute the actions, and again, until a plan
 * has nothing to do; then sleep until an engine event, a back-off deadline, a new desired
 * state, or an operator request. A new desired state aborts the round in flight. When the engine
 * is unreachable it logs once, keeps process modules going, and retries with back-off.
 */
import type { Logger } from "../core/log.ts";
import type { AdmittedContainer } from "./admission.ts";
import type { Deployment, DesiredModule } from "./deployment.ts";
import type { EngineDriver } from "./engine/driver.ts";
import { watchEngineEvents } from "./engine_events.ts";
import { executeSteps } from "./executor.ts";
import { LoopWakeup } from "./loop_wakeup.ts";
import type { ModuleStatus } from "./manifest.ts";
import type { ModuleInstance } from "./module_instance.ts";
import type { DeviceIdentity } from "./module_env.ts";
import type { ModuleProvisioner } from "./provisioner.ts";
import type { BackoffSettings, RestartStats } from "./restart_policy.ts";
import { type EngineState, planRound, refreshedStats } from "./round_plan.ts";
import { type ActionStep, isAction, type RuntimeStatus, type Step } from "./step.ts";
import { type SeenInstances, takeVanished } from "./vanished.ts";

/** Options of {@linkcode createReconciler}. */
export interface ReconcilerOptions {
  /** The container engine's driver, if the device has one. */
  engine: EngineDriver | undefined;
  /** The process driver. */
  process: EngineDriver;
  provisioner: ModuleProvisioner;
  /** The device policy, judging each container at the moment of create. */
  admit(module: DesiredModule): Promise<AdmittedContainer>;
  device: DeviceIdentity;
  network: string;
  backoff: BackoffSettings;
  logger: Logger;
  /** Clock (ms since the epoch). */
  now?: () => number;
  /** Called whenever statuses, instances or convergence change. */
  onChange?: () => void;
  /** Longest wait between engine reconnection attempts (default 30 s). */
  engineRetryMaxMs?: number;
}

/** A module's current status and why. */
export interface ModuleStatusEntry {
  status: RuntimeStatus;
  description: string;
}

/** What the loop knows now. */
export interface ReconcilerView {
  desired: Deployment | undefined;
  instances: ReadonlyMap<string, ModuleInstance>;
  statuses: ReadonlyMap<string, ModuleStatusEntry>;
  stats: ReadonlyMap<string, RestartStats>;
  /** True while a plan still has actions for the current desired state. */
  converging: boolean;
  /** "none": no engine configured or found; "down": unreachable now. */
  engine: EngineState;
}

interface Operation {
  run: () => Promise<void>;
  cancel: (reason: Error) => void;
}

/** The running loop; {@linkcode Reconciler.start} runs it. */
export class Reconciler {
  readonly #options: ReconcilerOptions;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #life = new AbortController();
  readonly #wakeup = new LoopWakeup();
  readonly #overrides: Record<string, ModuleStatus> = {};
  readonly #stats = new Map<string, RestartStats>();
  readonly #statuses = new Map<string, ModuleStatusEntry>();
  readonly #operations: Operation[] = [];
  /** Modules whose identity and sockets this run of ledge has already asked for. */
  readonly #provisioned = new Set<string>();
  readonly #watchers: Promise<void>[] = [];
  /** The instances seen at the last look, less those the loop removed itself since. */
  readonly #seen: SeenInstances = new Map();
  #desired: Deployment | undefined;
  #denied: Readonly<Record<string, string>> = {};
  #instances = new Map<string, ModuleInstance>();
  #converging = false;
  #engineState: EngineState;
  #engineRetryMs = 1000;
  #round = new AbortController();
  #running: Promise<void> | undefined;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#engineState = options.engine ? "up" : "none";
  }

  /** Starts the loop and the event watchers. */
  start(): void {
    if (this.#running) return;
    const { logger } = this.#options;
    this.#running = this.#loop().catch((error) => {
      logger.error("the agent loop stopped", { error });
    });
    const watch = {
      signal: this.#life.signal,
      wake: () => this.#wakeup.wake(),
      logger,
      retryMaxMs: this.#retryMaxMs,
    };
    this.#watchers.push(watchEngineEvents(this.#options.process, watch));
    if (this.#options.engine) this.#watchers.push(watchEngineEvents(this.#options.engine, watch));
  }

  /** Stops the loop (instances keep running). */
  async stop(): Promise<void> {
    this.#life.abort();
    this.#round.abort();
    this.#wakeup.wake();
    await this.#running;
    await Promise.all(this.#watchers);
    for (const pending of this.#operations.splice(0)) {
      pending.cancel(new Error("Cannot act: the agent stopped"));
    }
  }

  /** Supersedes the desired state; `denied` maps modules the policy denies to the reason. */
  setDesired(deployment: Deployment, denied: Readonly<Record<string, string>>): void {
    const previous = new Map(this.#desired?.modules.map((m) => [m.name, m.configHash]));
    for (const module of deployment.modules) {
      if (previous.get(module.name) !== module.configHash) this.#stats.delete(module.name);
    }
    for (const name of Object.keys(this.#overrides)) delete this.#overrides[name];
    this.#desired = deployment;
    this.#denied = denied;
    this.#converging = true;
    this.#round.abort();
    this.#wakeup.wake();
    this.#changed();
  }

  /** Operator override of a module's desired status until the next deployment. */
  setOverride(name: string, status: ModuleStatus | undefined): void {
    if (status === undefined) delete this.#overrides[name];
    else this.#overrides[name] = status;
    this.#wakeup.wake();
  }

  /** The operator's overrides in force (until the next deployment). */
  overrides(): Readonly<Record<string, ModuleStatus>> {
    return { ...this.#overrides };
  }

  /** Forgets a module's restarts and failures (an operator restart). */
  resetStats(name: string): void {
    this.#stats.delete(name);
    this.#wakeup.wake();
  }

  /** Runs `action` between rounds (so it never races a step), then re-plans. */
  operate<T>(action: () => Promise<T>): Promise<T> {
    if (this.#life.signal.aborted) {
      return Promise.reject(new Error("Cannot act: the agent is stopping"));
    }
    return new Promise<T>((resolve, reject) => {
      this.#operations.push({ run: () => action().then(resolve, reject), cancel: reject });
      this.#wakeup.wake();
    });
  }

  /** What the loop knows now. */
  view(): ReconcilerView {
    return {
      desired: this.#desired,
      instances: this.#instances,
      statuses: this.#statuses,
      stats: this.#stats,
      converging: this.#converging,
      engine: this.#engineState,
    };
  }

  /** The driver that runs `type`. */
  driverFor(type: "docker" | "process"): EngineDriver | undefined {
    return type === "process" ? this.#options.process : this.#options.engine;
  }

  get #retryMaxMs(): number {
    return this.#options.engineRetryMaxMs ?? 30_000;
  }

  #changed(): void {
    this.#options.onChange?.();
  }

  #setStatus(name: string, status: RuntimeStatus, description: string): void {
    const previous = this.#statuses.get(name);
    if (previous?.status === status && previous.description === description) return;
    this.#statuses.set(name, { status, description });
    this.#changed();
  }

  async #loop(): Promise<void> {
    const signal = this.#life.signal;
    while (!signal.aborted) {
      this.#wakeup.beginRound();
      while (this.#operations.length > 0) await this.#operations.shift()!.run();
      await this.#roundTrip();
    }
  }

  /** One round: observe, plan, then act or sleep. */
  async #roundTrip(): Promise<void> {
    const deployment = this.#desired;
    this.#round = new AbortController();
    const { current, engineUsable } = await this.#observe();
    if (this.#life.signal.aborted) return;
    this.#instances = new Map(current.map((i) => [i.name, i]));
    await this.#ensureProvisioned(current);
    const now = this.#now();
    this.#noteVanished(current, engineUsable, now);
    const resetSeconds = this.#options.backoff.resetSeconds;
    const refreshed = refreshedStats(this.#stats, current, { now, resetSeconds });
    for (const [name, stats] of refreshed) this.#stats.set(name, stats);
    const steps = planRound({
      desired: deployment,
      current,
      engineUsable,
      engineState: this.#engineState,
      stats: this.#stats,
      backoff: this.#options.backoff,
      denied: this.#denied,
      overrides: this.#overrides,
      now,
      agentStartedAt: this.#startedAt,
    });
    const actions = steps.filter(isAction);
    this.#report(steps, actions, false);
    for (const name of [...this.#statuses.keys()]) {
      if (!deployment?.modules.some((m) => m.name === name)) this.#statuses.delete(name);
    }
    const wasConverging = this.#converging;
    this.#converging = actions.length > 0;
    if (wasConverging !== this.#converging) this.#changed();
    if (actions.length === 0) {
      await this.#idle(steps, this.#options.engine !== undefined && !engineUsable);
      return;
    }
    this.#report(steps, actions, true);
    await this.#act(actions, deployment);
  }

  /** Records each instance removed outside ledge since the last look, to count as a crash. */
  #noteVanished(current: readonly ModuleInstance[], engineUsable: boolean, now: number): void {
    const looked = new Set<ModuleInstance["type"]>(
      engineUsable ? ["process", "docker"] : ["process"],
    );
    const desired = this.#desired?.modules ?? [];
    for (const module of takeVanished(this.#seen, { current, desired, looked })) {
      const stats = this.#stats.get(module.name) ?? { restartCount: 0 };
      this.#stats.set(module.name, {
        ...stats,
        vanished: { at: now, configHash: module.configHash },
      });
      this.#options.logger.warn(
        `module ${module.name}: its instance was removed outside ledge; it counts as a crash`,
        { restartCount: stats.restartCount },
      );
    }
  }

  /** Reports the statuses of modules with (`acting`) or without actions this round. */
  #report(steps: readonly Step[], actions: readonly ActionStep[], acting: boolean): void {
    for (const step of steps) {
      if (step.kind !== "report") continue;
      if (actions.some((a) => a.name === step.name) === acting) {
        this.#setStatus(step.name, step.status, step.description);
      }
    }
  }

  /** Nothing to do: sleep until the earliest back-off ends or the engine is tried again. */
  async #idle(steps: readonly Step[], engineDown: boolean): Promise<void> {
    const waits = steps.flatMap((s) => (s.kind === "wait-backoff" ? [s.until] : []));
    const until = Math.min(...waits, engineDown ? this.#now() + this.#engineRetryMs : Infinity);
    if (engineDown) this.#engineRetryMs = Math.min(this.#engineRetryMs * 2, this.#retryMaxMs);
    this.#changed();
    await this.#wakeup.sleep(
      until === Infinity ? 3_600_000 : until - this.#now(),
      this.#life.signal,
    );
  }

  async #act(actions: readonly ActionStep[], deployment: Deployment | undefined): Promise<void> {
    const options = this.#options;
    for (const action of actions) {
      // What the loop removes itself is not missed at the next look.
      if (action.kind === "remove" || action.kind === "recreate") this.#seen.delete(action.name);
    }
    const result = await executeSteps(actions, {
      driverFor: (type) => this.driverFor(type),
      provisioner: options.provisioner,
      admit: (module) => options.admit(module),
      device: options.device,
      network: options.network,
      registryCredentials: deployment?.runtime.settings.registryCredentials ?? {},
      stats: this.#stats,
      now: this.#now,
      onStatus: (name, status, description) => this.#setStatus(name, status, description),
      logger: options.logger,
      signal: AbortSignal.any([this.#round.signal, this.#life.signal]),
    });
    if (result.failed.size > 0 && !result.aborted) {
      await this.#wakeup.sleep(1000, this.#life.signal);
    }
  }

  /** The instances now; `engineUsable` false when the engine is absent or unreachable. */
  async #observe(): Promise<{ current: ModuleInstance[]; engineUsable: boolean }> {
    const { engine, process, logger } = this.#options;
    const found = await process.list();
    if (!engine) return { current: found, engineUsable: false };
    try {
      const containers = await engine.list(this.#life.signal);
      if (this.#engineState === "down") logger.info("the container engine is reachable again");
      this.#engineState = "up";
      this.#engineRetryMs = 1000;
      return { current: [...found, ...containers], engineUsable: true };
    } catch (error) {
      if (!this.#life.signal.aborted && this.#engineState !== "down") {
        logger.warn("the container engine is unreachable; retrying with back-off", { error });
        this.#engineState = "down";
        this.#changed();
      }
      return { current: found, engineUsable: false };
    }
  }

  /**
   * Instances that outlived a ledge restart need their sockets served again: ask the security
   * manager (idempotent) once per run for each desired module that already has an instance.
   */
  async #ensureProvisioned(current: readonly ModuleInstance[]): Promise<void> {
    const names = new Set(this.#desired?.modules.map((m) => m.name));
    for (const instance of current) {
      if (!names.has(instance.name) || this.#provisioned.has(instance.name)) continue;
      this.#provisioned.add(instance.name);
      await this.#options.provisioner.provisionModule(instance.name).catch((error) => {
        this.#provisioned.delete(instance.name);
        this.#options.logger.warn(`cannot provision ${instance.name}`, { error });
      });
    }
  }
}

/** Creates the loop; {@linkcode Reconciler.start} runs it. */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  return new Reconciler(options);
}
