/**
 * The reconcile loop: observe the instances, plan, execute the actions, and again, until a plan
 * has nothing to do; then sleep until an engine event, a back-off deadline, a new desired
 * state, or an operator request. A new desired state aborts the round in flight. When the engine
 * is unreachable it logs once, keeps process modules going, and retries with back-off.
 */
import type { Logger } from "../core/log.ts";
import type { Deployment } from "./deployment.ts";
import type { EngineDriver } from "./engine/driver.ts";
import { executeSteps } from "./executor.ts";
import type { ModuleStatus } from "./manifest.ts";
import type { ModuleInstance } from "./module_instance.ts";
import type { DeviceIdentity } from "./module_env.ts";
import { planSteps } from "./planner.ts";
import type { ModuleProvisioner } from "./provisioner.ts";
import { type BackoffSettings, refreshRestartStats, type RestartStats } from "./restart_policy.ts";
import { isAction, type RuntimeStatus, type Step } from "./step.ts";

/** Options of {@linkcode createReconciler}. */
export interface ReconcilerOptions {
  /** The container engine's driver, if the device has one. */
  engine: EngineDriver | undefined;
  /** The process driver. */
  process: EngineDriver;
  provisioner: ModuleProvisioner;
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
  engine: "up" | "down" | "none";
}

/** The running loop. */
export interface Reconciler {
  start(): void;
  /** Stops the loop (instances keep running). */
  stop(): Promise<void>;
  /** Supersedes the desired state; `denied` maps modules the policy denies to the reason. */
  setDesired(deployment: Deployment, denied: Readonly<Record<string, string>>): void;
  /** Operator override of a module's desired status until the next deployment. */
  setOverride(name: string, status: ModuleStatus | undefined): void;
  /** Forgets a module's restarts and failures (an operator restart). */
  resetStats(name: string): void;
  /** Runs `action` between rounds (so it never races a step), then re-plans. */
  operate<T>(action: () => Promise<T>): Promise<T>;
  view(): ReconcilerView;
  /** The driver that runs `type`. */
  driverFor(type: "docker" | "process"): EngineDriver | undefined;
}

/** Creates the loop; {@linkcode Reconciler.start} runs it. */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { logger, backoff } = options;
  const now = options.now ?? Date.now;
  const retryMax = options.engineRetryMaxMs ?? 30_000;
  let desired: Deployment | undefined;
  let denied: Readonly<Record<string, string>> = {};
  const overrides: Record<string, ModuleStatus> = {};
  const stats = new Map<string, RestartStats>();
  let instances = new Map<string, ModuleInstance>();
  const statuses = new Map<string, ModuleStatusEntry>();
  let converging = false;
  let engineState: ReconcilerView["engine"] = options.engine ? "up" : "none";
  let engineRetryMs = 1000;
  const operations: { run: () => Promise<void>; cancel: (reason: Error) => void }[] = [];
  const startedAt = now();
  /** Modules whose identity and sockets this run of ledge has already asked for. */
  const provisioned = new Set<string>();

  const life = new AbortController();
  let round = new AbortController();
  let dirty = true;
  let wakeUp: (() => void) | undefined;
  let running: Promise<void> | undefined;
  const watchers: Promise<void>[] = [];

  function changed() {
    options.onChange?.();
  }

  function wake() {
    dirty = true;
    wakeUp?.();
  }

  function setStatus(name: string, status: RuntimeStatus, description: string) {
    const previous = statuses.get(name);
    if (previous?.status === status && previous.description === description) return;
    statuses.set(name, { status, description });
    changed();
  }

  function driverFor(type: "docker" | "process") {
    return type === "process" ? options.process : options.engine;
  }

  async function sleep(ms: number) {
    if (!dirty && !life.signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          life.signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms));
        life.signal.addEventListener("abort", done);
        wakeUp = done;
      });
    }
    wakeUp = undefined;
  }

  /** The instances now; `engineUsable` false when the engine is absent or unreachable. */
  async function observe(): Promise<{ current: ModuleInstance[]; engineUsable: boolean }> {
    const found = await options.process.list();
    if (!options.engine) return { current: found, engineUsable: false };
    try {
      const containers = await options.engine.list(life.signal);
      if (engineState === "down") logger.info("the container engine is reachable again");
      engineState = "up";
      engineRetryMs = 1000;
      return { current: [...found, ...containers], engineUsable: true };
    } catch (error) {
      if (!life.signal.aborted && engineState !== "down") {
        logger.warn("the container engine is unreachable; retrying with back-off", { error });
        engineState = "down";
        changed();
      }
      return { current: found, engineUsable: false };
    }
  }

  /**
   * Instances that outlived a ledge restart need their sockets served again: ask the security
   * manager (idempotent) once per run for each desired module that already has an instance.
   */
  async function ensureProvisioned(current: ModuleInstance[]) {
    const names = new Set(desired?.modules.map((m) => m.name));
    for (const instance of current) {
      if (!names.has(instance.name) || provisioned.has(instance.name)) continue;
      provisioned.add(instance.name);
      await options.provisioner.provisionModule(instance.name).catch((error) => {
        provisioned.delete(instance.name);
        logger.warn(`cannot provision ${instance.name}`, { error });
      });
    }
  }

  function plan(current: ModuleInstance[], engineUsable: boolean): Step[] {
    if (!desired) return [];
    const runnable = desired.modules.filter((m) => m.type === "process" || engineUsable);
    const unrunnable = desired.modules.filter((m) => !runnable.includes(m));
    const time = now();
    for (const instance of current) {
      const before = stats.get(instance.name);
      if (!before) continue;
      const after = refreshRestartStats(before, instance, {
        now: time,
        resetSeconds: backoff.resetSeconds,
      });
      if (after !== before) stats.set(instance.name, after);
    }
    const steps = planSteps(current, { modules: runnable }, {
      now: time,
      stats: Object.fromEntries(stats),
      backoff,
      denied,
      overrides,
      agentStartedAt: startedAt,
    });
    for (const module of unrunnable) {
      steps.push({
        kind: "report",
        name: module.name,
        status: engineState === "none" ? "failed" : "unknown",
        description: engineState === "none"
          ? "no container engine: agent.engine is none, or no engine socket was found"
          : "the container engine is unreachable",
      });
    }
    return steps;
  }

  async function loop() {
    while (!life.signal.aborted) {
      dirty = false;
      while (operations.length > 0) await operations.shift()!.run();
      const deployment = desired;
      round = new AbortController();
      const { current, engineUsable } = await observe();
      if (life.signal.aborted) break;
      const engineDown = options.engine !== undefined && !engineUsable;
      instances = new Map(current.map((i) => [i.name, i]));
      await ensureProvisioned(current);
      const steps = plan(current, engineUsable);
      const actions = steps.filter(isAction);
      for (const step of steps) {
        if (step.kind === "report" && !actions.some((a) => a.name === step.name)) {
          setStatus(step.name, step.status, step.description);
        }
      }
      for (const name of [...statuses.keys()]) {
        if (!deployment?.modules.some((m) => m.name === name)) statuses.delete(name);
      }
      const wasConverging = converging;
      converging = actions.length > 0;
      if (wasConverging !== converging) changed();
      if (actions.length === 0) {
        const waits = steps.flatMap((s) => (s.kind === "wait-backoff" ? [s.until] : []));
        const until = Math.min(...waits, engineDown ? now() + engineRetryMs : Infinity);
        if (engineDown) engineRetryMs = Math.min(engineRetryMs * 2, retryMax);
        changed();
        await sleep(until === Infinity ? 3_600_000 : until - now());
        continue;
      }
      for (const step of steps) {
        if (step.kind === "report" && actions.some((a) => a.name === step.name)) {
          setStatus(step.name, step.status, step.description);
        }
      }
      const result = await executeSteps(actions, {
        driverFor,
        provisioner: options.provisioner,
        device: options.device,
        network: options.network,
        registryCredentials: deployment?.runtime.settings.registryCredentials ?? {},
        stats,
        now,
        onStatus: setStatus,
        logger,
        signal: AbortSignal.any([round.signal, life.signal]),
      });
      if (result.failed.size > 0 && !result.aborted) await sleep(1000);
    }
  }

  async function watch(driver: EngineDriver) {
    let delay = 1000;
    let quiet = false;
    while (!life.signal.aborted) {
      try {
        for await (const _event of driver.events(life.signal)) {
          delay = 1000;
          quiet = false;
          wake();
        }
      } catch (error) {
        if (!quiet && !life.signal.aborted) {
          logger.debug("engine event stream dropped; re-subscribing", { error });
        }
        quiet = true;
      }
      if (life.signal.aborted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        life.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      delay = Math.min(delay * 2, retryMax);
      wake();
    }
  }

  return {
    start() {
      if (running) return;
      running = loop().catch((error) => {
        logger.error("the agent loop stopped", { error });
      });
      watchers.push(watch(options.process));
      if (options.engine) watchers.push(watch(options.engine));
    },
    async stop() {
      life.abort();
      round.abort();
      wake();
      await running;
      await Promise.all(watchers);
      for (const pending of operations.splice(0)) {
        pending.cancel(new Error("Cannot act: the agent stopped"));
      }
    },
    setDesired(deployment, deniedModules) {
      const previous = new Map(desired?.modules.map((m) => [m.name, m.configHash]));
      for (const module of deployment.modules) {
        if (previous.get(module.name) !== module.configHash) stats.delete(module.name);
      }
      for (const name of Object.keys(overrides)) delete overrides[name];
      desired = deployment;
      denied = deniedModules;
      converging = true;
      round.abort();
      wake();
      changed();
    },
    setOverride(name, status) {
      if (status === undefined) delete overrides[name];
      else overrides[name] = status;
      wake();
    },
    resetStats(name) {
      stats.delete(name);
      wake();
    },
    operate<T>(action: () => Promise<T>): Promise<T> {
      if (life.signal.aborted) {
        return Promise.reject(new Error("Cannot act: the agent is stopping"));
      }
      return new Promise<T>((resolve, reject) => {
        operations.push({ run: () => action().then(resolve, reject), cancel: reject });
        wake();
      });
    },
    view() {
      return { desired, instances, statuses, stats, converging, engine: engineState };
    },
    driverFor,
  };
}
