/**
 * Whether a deployment runs as it should, judged from what the reconcile loop observes: every
 * module that should run has been running for at least a stable time in its current run, and is
 * healthy where the image declares a health check; a one-shot module (`never`/`on-failure`) that
 * exited 0 is fine; a module the deployment stops is fine. A module that crashes and restarts
 * never reaches the stable time, so a crash loop is not mistaken for running. Pure.
 *
 * @module
 */
import type { Deployment } from "./deployment.ts";
import type { ModuleInstance } from "./module_instance.ts";
import type { ModuleStatusEntry } from "./reconciler.ts";

/** What the check reads of the loop. */
export interface HealthView {
  instances: ReadonlyMap<string, ModuleInstance>;
  statuses: ReadonlyMap<string, ModuleStatusEntry>;
}

/** How long a module's current run must have lasted to count, for a given check window. */
export function stableMsFor(windowSeconds: number): number {
  return Math.min(30_000, Math.max(1000, (windowSeconds * 1000) / 3));
}

/** What keeps one module from counting as running, or undefined when it counts. */
function moduleProblem(
  module: Deployment["modules"][number],
  view: HealthView,
  now: number,
  stableMs: number,
): string | undefined {
  if (module.status === "stopped") return undefined;
  const instance = view.instances.get(module.name);
  const status = view.statuses.get(module.name);
  const described = status?.description ? ` (${status.description})` : "";
  const oneShot = module.restartPolicy === "never" || module.restartPolicy === "on-failure";
  if (oneShot && instance?.state === "exited" && instance.exitCode === 0) return undefined;
  if (instance === undefined || instance.state !== "running") {
    return `${module.name}: ${status?.status ?? "not started"}${described}`;
  }
  if (instance.health === "unhealthy" || instance.health === "starting") {
    return `${module.name}: ${instance.health}`;
  }
  const ranMs = now - (instance.startedAt ?? now);
  if (ranMs < stableMs) {
    const restarts = status?.status === "running" ? "" : `, ${status?.status ?? "unknown"}`;
    return `${module.name}: running for ${Math.floor(ranMs / 1000)} s of the ${
      Math.round(stableMs / 1000)
    } s it must${restarts}`;
  }
  return undefined;
}

/** Why `deployment` does not run as it should now; empty when it does. */
export function deploymentProblems(
  deployment: Deployment,
  view: HealthView,
  options: { now: number; stableMs: number },
): string[] {
  const problems: string[] = [];
  for (const module of deployment.modules) {
    const problem = moduleProblem(module, view, options.now, options.stableMs);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}
