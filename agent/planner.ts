/**
 * The planner: `(current instances, desired deployment, restart stats, now) -> Step[]`, pure.
 *
 * Rules: a config change (image, createOptions, env, version) recreates; a status change starts
 * or stops; owned instances not in the deployment are removed (only owned ones are ever given to
 * the planner); startupOrder groups start lowest first, a group waiting until every module of
 * the groups before it has settled (running, backing off, or failed) so a crash-looping module
 * never blocks the others; exited modules restart per policy after
 * `min(base * 2^n, max)`. The rules for one module are in plan_module.ts.
 */
import type { DesiredModule } from "./deployment.ts";
import type { ModuleInstance } from "./module_instance.ts";
import { LIVE_STATES, planModule, type PlanOptions } from "./plan_module.ts";
import type { Step } from "./step.ts";

export type { PlanOptions } from "./plan_module.ts";

function preferred(instances: readonly ModuleInstance[], module: DesiredModule | undefined) {
  const score = (instance: ModuleInstance) =>
    (instance.configHash === module?.configHash ? 2 : 0) +
    (LIVE_STATES.has(instance.state) ? 1 : 0);
  return [...instances].sort((a, b) => score(b) - score(a) || a.id.localeCompare(b.id));
}

/**
 * Picks the instance to keep for each desired module (removing duplicates) and removes the
 * instances of modules that left the deployment.
 */
function chooseInstances(
  current: readonly ModuleInstance[],
  wanted: ReadonlyMap<string, DesiredModule>,
  steps: Step[],
): Map<string, ModuleInstance> {
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
  return chosen;
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
  const steps: Step[] = [];
  const wanted = new Map(desired.modules.map((module) => [module.name, module]));
  const chosen = chooseInstances(current, wanted, steps);
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
}
