/**
 * The planner's rules for one module: given its instance (if any), its restart stats, whether
 * an earlier startupOrder group still holds it back, and the time, append its steps and one
 * report. Pure; {@linkcode planSteps} calls it for each module in startup order.
 */
import type { DesiredModule } from "./deployment.ts";
import type { ModuleStatus } from "./manifest.ts";
import type { ModuleInstance } from "./module_instance.ts";
import {
  type BackoffSettings,
  FRESH_STATS,
  restartBackoffMs,
  type RestartStats,
  restartsWhenUnhealthy,
  shouldRestart,
  VANISHED_EXIT_CODE,
} from "./restart_policy.ts";
import type { RuntimeStatus, Step } from "./step.ts";

/** Inputs of {@linkcode planSteps} besides the instances and the deployment. */
export interface PlanOptions {
  /** Now, in ms since the epoch. */
  now: number;
  stats: Readonly<Record<string, RestartStats>>;
  backoff: BackoffSettings;
  /** Modules the createOptions policy denies, with the reason. */
  denied?: Readonly<Record<string, string>>;
  /** Operator overrides of the desired status (`ledge stop` / `start`). */
  overrides?: Readonly<Record<string, ModuleStatus>>;
  /**
   * When the agent started (ms). An instance that exited before then was stopped by a reboot or
   * by the engine, not by its own failure: it starts again at once, policy `never` aside.
   */
  agentStartedAt?: number;
}

/** Instance states in which a module counts as running. */
export const LIVE_STATES: ReadonlySet<string> = new Set(["running", "restarting", "paused"]);

/** One module being planned: its facts and where its steps go. */
class ModulePlan {
  readonly name: string;
  readonly status: ModuleStatus;
  readonly stats: RestartStats;
  /** The last failure to pull, create or start this very config, if any. */
  readonly failure: RestartStats["failure"];
  /** When the instance of this very config was found removed outside ledge, if it was. */
  readonly vanished: RestartStats["vanished"];

  constructor(
    readonly module: DesiredModule,
    readonly instance: ModuleInstance | undefined,
    /** The startupOrder group that holds this one back, if any. */
    readonly blocked: number | undefined,
    readonly out: Step[],
    readonly options: PlanOptions,
  ) {
    this.name = module.name;
    this.status = options.overrides?.[module.name] ?? module.status;
    this.stats = options.stats[module.name] ?? FRESH_STATS;
    this.failure = this.stats.failure?.configHash === module.configHash
      ? this.stats.failure
      : undefined;
    this.vanished = !instance && this.stats.vanished?.configHash === module.configHash
      ? this.stats.vanished
      : undefined;
  }

  get waitingText(): string {
    return `waiting for the modules with startupOrder ${this.blocked} to start`;
  }

  report(status: RuntimeStatus, description: string): void {
    this.out.push({ kind: "report", name: this.name, status, description });
  }

  backoffUntil(since: number): number {
    return since + restartBackoffMs(this.stats.restartCount, this.options.backoff);
  }

  /** Waits out a back-off until `until`, reporting `description`. */
  waitOut(until: number, description: string): void {
    this.out.push({
      kind: "wait-backoff",
      name: this.name,
      until,
      restartCount: this.stats.restartCount,
    });
    this.report("backoff", description);
  }

  /** Still backing off from a failure of this config: wait (returns true), else false. */
  waitingOnFailure(): boolean {
    if (!this.failure || this.options.now >= this.backoffUntil(this.failure.at)) return false;
    this.waitOut(this.backoffUntil(this.failure.at), this.failure.message);
    return true;
  }

  /**
   * Its instance was removed outside ledge, a crash: under policy `never` it stays down
   * (reported failed), else it waits out the back-off (returns true), else false.
   */
  holdingAfterVanish(): boolean {
    if (!this.vanished || this.status !== "running") return false;
    const what = "its container was removed outside ledge";
    if (!shouldRestart(this.module.restartPolicy, VANISHED_EXIT_CODE)) {
      this.report("failed", `${what}; restartPolicy is never`);
      return true;
    }
    const until = this.backoffUntil(this.vanished.at);
    if (this.options.now >= until) return false;
    const seconds = Math.ceil((until - this.options.now) / 1000);
    this.waitOut(until, `${what}; restart ${this.stats.restartCount + 1} in ${seconds} s`);
    return true;
  }
}

/**
 * Appends the module's steps.
 *
 * @returns whether it is on its way to running (not settled), which holds later groups back.
 */
export function planModule(
  module: DesiredModule,
  instance: ModuleInstance | undefined,
  blocked: number | undefined,
  out: Step[],
  options: PlanOptions,
): boolean {
  const plan = new ModulePlan(module, instance, blocked, out, options);
  const denial = options.denied?.[module.name];
  if (denial !== undefined) {
    if (instance) out.push({ kind: "remove", name: module.name, instance, dropped: false });
    plan.report("failed", denial);
    return false;
  }
  if (!instance || instance.configHash !== module.configHash) return planCreate(plan);
  if (plan.status === "stopped") {
    if (LIVE_STATES.has(instance.state)) {
      out.push({ kind: "stop", name: module.name, instance, reason: "desired status is stopped" });
    }
    plan.report("stopped", "stopped as desired");
    return false;
  }
  switch (instance.state) {
    case "running":
    case "restarting":
    case "paused":
      return planLive(plan, instance);
    case "removing":
      plan.report("unknown", "being removed");
      return true;
    case "created":
      return planCreated(plan);
    case "exited":
    case "dead":
      return planExited(plan, instance);
  }
}

/**
 * No instance, or one of another config: (pull,) create or recreate, and start if desired. An
 * instance removed outside ledge is recreated as a restart (counted, after its back-off).
 */
function planCreate(plan: ModulePlan): boolean {
  const { module, instance, name } = plan;
  if (plan.waitingOnFailure() || plan.holdingAfterVanish()) return false;
  if (plan.status === "running" && plan.blocked !== undefined) {
    plan.report("unknown", plan.waitingText);
    return true;
  }
  if (module.type === "docker" && module.imagePullPolicy === "on-create") {
    plan.out.push({ kind: "pull", name, module });
  }
  plan.out.push(
    instance ? { kind: "recreate", name, module, instance } : {
      kind: "create",
      name,
      module,
    },
  );
  if (plan.status === "running") {
    const restart = plan.vanished !== undefined;
    plan.out.push({ kind: "start", name, module, restart });
    plan.report("unknown", restart ? "recreating" : instance ? "updating" : "deploying");
    return true;
  }
  plan.report("stopped", "stopped as desired");
  return false;
}

function planLive(plan: ModulePlan, instance: ModuleInstance): boolean {
  if (instance.health === "unhealthy") {
    if (restartsWhenUnhealthy(plan.module.restartPolicy)) {
      plan.out.push({ kind: "stop", name: plan.name, instance, reason: "unhealthy" });
    }
    plan.report("unhealthy", "the healthcheck failed");
    return false;
  }
  plan.report("running", instance.state === "running" ? "running" : instance.state);
  return false;
}

function planCreated(plan: ModulePlan): boolean {
  if (plan.blocked !== undefined) {
    plan.report("unknown", plan.waitingText);
    return true;
  }
  if (plan.waitingOnFailure()) return false;
  plan.out.push({
    kind: "start",
    name: plan.name,
    module: plan.module,
    restart: plan.failure !== undefined,
  });
  plan.report("unknown", "starting");
  return true;
}

function planExited(plan: ModulePlan, instance: ModuleInstance): boolean {
  const { module, name, failure, options } = plan;
  const exit = `exited with code ${instance.exitCode}`;
  const { agentStartedAt } = options;
  const stoppedBefore = agentStartedAt !== undefined && instance.finishedAt !== undefined &&
    instance.finishedAt < agentStartedAt && failure === undefined;
  if (stoppedBefore && module.restartPolicy !== "never") {
    // Stopped by a reboot or by the engine, not by its own failure: it starts again at once.
    if (plan.blocked !== undefined) {
      plan.report("unknown", plan.waitingText);
      return true;
    }
    plan.out.push({ kind: "start", name, module, restart: false });
    plan.report("unknown", "starting");
    return true;
  }
  if (!shouldRestart(module.restartPolicy, instance.exitCode)) {
    const description = failure ? failure.message : exit;
    plan.report(instance.exitCode === 0 && !failure ? "stopped" : "failed", description);
    return false;
  }
  const until = plan.backoffUntil(Math.max(instance.finishedAt ?? 0, failure?.at ?? 0));
  if (options.now >= until) {
    plan.out.push({ kind: "start", name, module, restart: true });
    plan.report("backoff", `${exit}; restarting`);
  } else {
    const seconds = Math.ceil((until - options.now) / 1000);
    plan.waitOut(
      until,
      failure ? failure.message : `${exit}; restart ${plan.stats.restartCount + 1} in ${seconds} s`,
    );
  }
  return false;
}
