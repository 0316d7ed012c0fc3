/**
 * The planner: `(current instances, desired deployment, restart stats, now) → Step[]`, pure.
 *
 * Rules: a config change (image, createOptions, env, version) recreates; a status change starts
 * or stops; owned instances not in the deployment are removed (only owned ones are ever given to
 * the planner); startupOrder groups start lowest first, a group waiting until every module of
 * the groups before it has settled (running, backing off, or failed) so a crash-looping module
 * never blocks the others; exited modules restart per policy after
 * `min(base * 2^n, max)`.
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

const LIVE_STATES = new Set(["running", "restarting", "paused"]);

function preferred(instances: readonly ModuleInstance[], module: DesiredModule | undefined) {
  const score = (instance: ModuleInstance) =>
    (instance.configHash === module?.configHash ? 2 : 0) +
    (LIVE_STATES.has(instance.state) ? 1 : 0);
  return [...instances].sort((a, b) => score(b) - score(a) || a.id.localeCompare(b.id));
}

/**
 * Plans the steps that take `current` toward `desired`. Every desired module gets exactly one
 * `report` step describing its status; action steps of one module are in execution order.
 *
 * @param current the instances this ledge owns, as observed now.
 * @param desired the accepted deployment (its modules), or undefined before any: nothing to do.
 * @example
 * ```ts
 * const steps = planSteps(await driver.list(), deployment, {
 *   now: Date.now(), stats: {}, backoff: { baseSeconds: 10, maxSeconds: 300, resetSeconds: 600 },
 * });
 * ```
 */
export function planSteps(
  current: readonly ModuleInstance[],
  desired: { modules: readonly DesiredModule[] } | undefined,
  options: PlanOptions,
): Step[] {
  if (!desired) return [];
  const { now, backoff } = options;
  const steps: Step[] = [];
  const wanted = new Map(desired.modules.map((module) => [module.name, module]));
  const byName = new Map<string, ModuleInstance[]>();
  for (const instance of current) {
    byName.set(instance.name, [...(byName.get(instance.name) ?? []), instance]);
  }
  const chosen = new Map<string, ModuleInstance>();
  for (const [name, instances] of byName) {
    const module = wanted.get(name);
    const [keep, ...extra] = preferred(instances, module);
    if (!module) {
      for (const instance of instances) {
        steps.push({ kind: "remove", name, instance, dropped: true });
      }
      continue;
    }
    chosen.set(name, keep!);
    for (const instance of extra) steps.push({ kind: "remove", name, instance, dropped: false });
  }

  const orders = [...new Set(desired.modules.map((m) => m.startupOrder))].sort((a, b) => a - b);
  let blockedBy: number | undefined;
  for (const order of orders) {
    let groupPending = false;
    for (const module of desired.modules.filter((m) => m.startupOrder === order)) {
      const pending = planModule(module, chosen.get(module.name), blockedBy, steps, options);
      groupPending ||= pending;
    }
    if (groupPending && blockedBy === undefined) blockedBy = order;
  }
  return steps;

  /** Appends the module's steps; returns whether it is on its way to running (not settled). */
  function planModule(
    module: DesiredModule,
    instance: ModuleInstance | undefined,
    blocked: number | undefined,
    out: Step[],
    { stats, denied = {}, overrides = {}, agentStartedAt }: PlanOptions,
  ): boolean {
    const name = module.name;
    const report = (status: RuntimeStatus, description: string) =>
      out.push({ kind: "report", name, status, description });
    const status = overrides[name] ?? module.status;
    const moduleStats = stats[name] ?? FRESH_STATS;
    const failure = moduleStats.failure?.configHash === module.configHash
      ? moduleStats.failure
      : undefined;
    const backoffUntil = (since: number) =>
      since + restartBackoffMs(moduleStats.restartCount, backoff);
    const waitOut = (until: number, description: string) => {
      out.push({ kind: "wait-backoff", name, until, restartCount: moduleStats.restartCount });
      report("backoff", description);
    };
    const waitingText = `waiting for the modules with startupOrder ${blocked} to start`;

    const denial = denied[name];
    if (denial !== undefined) {
      if (instance) out.push({ kind: "remove", name, instance, dropped: false });
      report("failed", denial);
      return false;
    }

    if (!instance || instance.configHash !== module.configHash) {
      if (failure && now < backoffUntil(failure.at)) {
        waitOut(backoffUntil(failure.at), failure.message);
        return false;
      }
      if (status === "running" && blocked !== undefined) {
        report("unknown", waitingText);
        return true;
      }
      if (module.type === "docker" && module.imagePullPolicy === "on-create") {
        out.push({ kind: "pull", name, module });
      }
      out.push(
        instance ? { kind: "recreate", name, module, instance } : { kind: "create", name, module },
      );
      if (status === "running") {
        out.push({ kind: "start", name, module, restart: false });
        report("unknown", instance ? "updating" : "deploying");
        return true;
      }
      report("stopped", "stopped as desired");
      return false;
    }

    if (status === "stopped") {
      if (LIVE_STATES.has(instance.state)) {
        out.push({ kind: "stop", name, instance, reason: "desired status is stopped" });
      }
      report("stopped", "stopped as desired");
      return false;
    }

    switch (instance.state) {
      case "running":
      case "restarting":
      case "paused":
        if (instance.health === "unhealthy") {
          if (restartsWhenUnhealthy(module.restartPolicy)) {
            out.push({ kind: "stop", name, instance, reason: "unhealthy" });
          }
          report("unhealthy", "the healthcheck failed");
          return false;
        }
        report("running", instance.state === "running" ? "running" : instance.state);
        return false;
      case "removing":
        report("unknown", "being removed");
        return true;
      case "created": {
        if (blocked !== undefined) {
          report("unknown", waitingText);
          return true;
        }
        if (failure && now < backoffUntil(failure.at)) {
          waitOut(backoffUntil(failure.at), failure.message);
          return false;
        }
        out.push({ kind: "start", name, module, restart: failure !== undefined });
        report("unknown", "starting");
        return true;
      }
      case "exited":
      case "dead": {
        const exit = `exited with code ${instance.exitCode}`;
        const stoppedBefore = agentStartedAt !== undefined && instance.finishedAt !== undefined &&
          instance.finishedAt < agentStartedAt && failure === undefined;
        if (stoppedBefore && module.restartPolicy !== "never") {
          if (blocked !== undefined) {
            report("unknown", waitingText);
            return true;
          }
          out.push({ kind: "start", name, module, restart: false });
          report("unknown", "starting");
          return true;
        }
        if (!shouldRestart(module.restartPolicy, instance.exitCode)) {
          const description = failure ? failure.message : exit;
          report(instance.exitCode === 0 && !failure ? "stopped" : "failed", description);
          return false;
        }
        const since = Math.max(instance.finishedAt ?? 0, failure?.at ?? 0);
        const until = backoffUntil(since);
        if (now >= until) {
          out.push({ kind: "start", name, module, restart: true });
          report("backoff", `${exit}; restarting`);
        } else {
          waitOut(
            until,
            failure
              ? failure.message
              : `${exit}; restart ${moduleStats.restartCount + 1} in ${
                Math.ceil((until - now) / 1000)
              } s`,
          );
        }
        return false;
      }
    }
  }
}
