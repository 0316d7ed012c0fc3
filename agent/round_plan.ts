/**
 * One round's plan: the restart counts refreshed from what runs, the planner's steps for the
 * modules that can run now, and a report for those that cannot (no engine, or the engine is
 * unreachable: process modules carry on meanwhile). Pure.
 */
import type { Deployment } from "./deployment.ts";
import type { ModuleStatus } from "./manifest.ts";
import type { ModuleInstance } from "./module_instance.ts";
import { planSteps } from "./planner.ts";
import { type BackoffSettings, refreshRestartStats, type RestartStats } from "./restart_policy.ts";
import type { Step } from "./step.ts";

/** Whether the container engine is up, unreachable now, or absent. */
export type EngineState = "up" | "down" | "none";

/** What a round plans from. */
export interface RoundInput {
  desired: Deployment | undefined;
  current: readonly ModuleInstance[];
  /** False when the engine is absent or unreachable this round. */
  engineUsable: boolean;
  engineState: EngineState;
  stats: ReadonlyMap<string, RestartStats>;
  backoff: BackoffSettings;
  denied: Readonly<Record<string, string>>;
  overrides: Readonly<Record<string, ModuleStatus>>;
  now: number;
  agentStartedAt: number;
}

/**
 * Resets the restart count of each module that ran long enough.
 *
 * @returns the stats that changed.
 */
export function refreshedStats(
  stats: ReadonlyMap<string, RestartStats>,
  current: readonly ModuleInstance[],
  options: { now: number; resetSeconds: number },
): Map<string, RestartStats> {
  const changed = new Map<string, RestartStats>();
  for (const instance of current) {
    const before = stats.get(instance.name);
    if (!before) continue;
    const after = refreshRestartStats(before, instance, options);
    if (after !== before) changed.set(instance.name, after);
  }
  return changed;
}

/** The steps of one round. */
export function planRound(input: RoundInput): Step[] {
  const { desired, engineState } = input;
  if (!desired) return [];
  const runnable = desired.modules.filter((m) => m.type === "process" || input.engineUsable);
  const unrunnable = desired.modules.filter((m) => !runnable.includes(m));
  const steps = planSteps(input.current, { modules: runnable }, {
    now: input.now,
    stats: Object.fromEntries(input.stats),
    backoff: input.backoff,
    denied: input.denied,
    overrides: input.overrides,
    agentStartedAt: input.agentStartedAt,
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
