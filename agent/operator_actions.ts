/**
 * What an operator asks of one module (`ledge restart|start|stop <module>`). Each runs between
 * two rounds of the loop, so it never races a step; a start or stop holds until the next
 * deployment, across restarts of ledge (saved beside the deployment).
 */
import type { Logger } from "../core/log.ts";
import type { DesiredModule } from "./deployment.ts";
import type { Reconciler } from "./reconciler.ts";
import type { AgentStore } from "./store.ts";

function driverOf(reconciler: Reconciler, module: DesiredModule, what: string) {
  const driver = reconciler.driverFor(module.type);
  if (!driver) throw new Error(`Cannot ${what} ${module.name}: no container engine`);
  return driver;
}

/**
 * Starts the module's instance only when it was made from the desired config under the current
 * device policy (the config hash folds the policy in): any other instance is left to the loop,
 * which recreates it through admission instead of starting what an older config or policy made.
 */
async function startIfCurrent(
  driver: NonNullable<ReturnType<Reconciler["driverFor"]>>,
  module: DesiredModule,
): Promise<void> {
  const instance = await driver.inspect(module.name);
  if (!instance || instance.state === "running") return;
  if (instance.configHash !== module.configHash) return;
  await driver.start(module.name);
}

/** Stops and starts the module now, forgetting its restarts and any operator stop. */
export function restartModule(
  reconciler: Reconciler,
  module: DesiredModule,
  logger: Logger,
): Promise<void> {
  return reconciler.operate(async () => {
    const driver = driverOf(reconciler, module, "restart");
    reconciler.resetStats(module.name);
    reconciler.setOverride(module.name, undefined);
    await driver.stop(module.name, { timeoutSeconds: 10 });
    await startIfCurrent(driver, module);
    logger.info(`restarted ${module.name} on request`);
  });
}

/** Starts the module (running until the next deployment, even if it is desired stopped). */
export function startModule(reconciler: Reconciler, module: DesiredModule): Promise<void> {
  return reconciler.operate(async () => {
    reconciler.resetStats(module.name);
    reconciler.setOverride(module.name, module.status === "stopped" ? "running" : undefined);
    const driver = reconciler.driverFor(module.type);
    if (driver) await startIfCurrent(driver, module);
  });
}

/** Stops the module until the next deployment or an operator start. */
export function stopModule(reconciler: Reconciler, module: DesiredModule): Promise<void> {
  return reconciler.operate(() => {
    reconciler.setOverride(module.name, "stopped");
    return Promise.resolve();
  });
}

/** Saves the operator's overrides of the deployment in force, so they outlive this run. */
export async function saveOverrides(reconciler: Reconciler, store: AgentStore): Promise<void> {
  const version = reconciler.view().desired?.version;
  if (version === undefined) return;
  await store.saveOverrides({ version, modules: reconciler.overrides() });
}

/** Applies again the overrides saved for the deployment in force (ledge started again). */
export async function restoreOverrides(
  reconciler: Reconciler,
  store: AgentStore,
  logger: Logger,
): Promise<void> {
  const stored = await store.loadOverrides().catch((error) => {
    logger.warn("cannot read the operator's start/stop overrides", { error });
    return undefined;
  });
  const desired = reconciler.view().desired;
  if (!stored || !desired || stored.version !== desired.version) return;
  for (const [name, status] of Object.entries(stored.modules)) {
    if (!desired.modules.some((m) => m.name === name)) continue;
    reconciler.setOverride(name, status);
    logger.info(`module ${name} stays ${status} as the operator asked`);
  }
}
