/**
 * The executor: performs a plan's action steps through the drivers. Steps of one module run in
 * order; modules run in parallel, so one slow or failing module never holds up the others. A
 * failed step records the failure (for back-off) and skips the rest of that module's steps.
 */
import type { Logger } from "../core/log.ts";
import type { AdmittedContainer } from "./admission.ts";
import type { DesiredModule } from "./deployment.ts";
import { type EngineDriver, NoSuchInstanceError, type PullProgress } from "./engine/driver.ts";
import type { RegistryCredential } from "./manifest.ts";
import { buildModuleEnv, type DeviceIdentity } from "./module_env.ts";
import type { ModuleProvisioner } from "./provisioner.ts";
import { credentialsFor } from "./registry_auth.ts";
import { FRESH_STATS, type RestartStats } from "./restart_policy.ts";
import type { ActionStep, RuntimeStatus, StartStep } from "./step.ts";

/** What the executor works with. */
export interface ExecutorContext {
  /** The driver for a module type; undefined when there is none (no engine). */
  driverFor(type: "docker" | "process"): EngineDriver | undefined;
  provisioner: ModuleProvisioner;
  /** Judges a container module at the moment of create; throws when the policy refuses it. */
  admit(module: DesiredModule): Promise<AdmittedContainer>;
  device: DeviceIdentity;
  /** Network for containers, from `[agent] network`. */
  network: string;
  registryCredentials: Readonly<Record<string, RegistryCredential>>;
  /** Restart stats, updated in place. */
  stats: Map<string, RestartStats>;
  now(): number;
  /** A module's status while its steps run. */
  onStatus(name: string, status: RuntimeStatus, description: string): void;
  logger: Logger;
  /** Aborted when a new desired state supersedes this one. */
  signal: AbortSignal;
  /** Seconds a stop waits before killing. */
  stopTimeoutSeconds?: number;
}

/** What a run of steps did. */
export interface ExecutionResult {
  /** Modules whose steps failed, with the reason. */
  failed: Map<string, string>;
  /** Whether the run stopped early because it was superseded. */
  aborted: boolean;
}

function describeProgress(image: string, layers: Map<string, PullProgress>): string {
  const all = [...layers.values()];
  const done = all.filter((p) => /complete|exists/i.test(p.status)).length;
  return all.length > 0 ? `pulling ${image}: ${done}/${all.length} layers` : `pulling ${image}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `steps` (action steps only).
 *
 * @example
 * ```ts
 * const result = await executeSteps(steps.filter(isAction), context);
 * ```
 */
export async function executeSteps(
  steps: readonly ActionStep[],
  context: ExecutorContext,
): Promise<ExecutionResult> {
  const byModule = new Map<string, ActionStep[]>();
  for (const step of steps) byModule.set(step.name, [...(byModule.get(step.name) ?? []), step]);
  const failed = new Map<string, string>();
  await Promise.all([...byModule].map(async ([name, moduleSteps]) => {
    for (const step of moduleSteps) {
      if (context.signal.aborted) return;
      try {
        await perform(step, context);
      } catch (error) {
        if (context.signal.aborted) return;
        const reason = message(error);
        failed.set(name, reason);
        recordFailure(step, reason, context);
        return;
      }
    }
  }));
  return { failed, aborted: context.signal.aborted };
}

function recordFailure(step: ActionStep, reason: string, context: ExecutorContext): void {
  const configHash = "module" in step ? step.module.configHash : step.instance.configHash;
  const stats = context.stats.get(step.name) ?? { restartCount: 0 };
  const restartCount = stats.restartCount + 1;
  context.stats.set(step.name, {
    ...stats,
    restartCount,
    failure: { at: context.now(), message: reason, configHash },
  });
  context.logger.warn(`module ${step.name}: ${step.kind} failed`, { error: reason, restartCount });
  context.onStatus(step.name, "backoff", reason);
}

function requireDriver(
  module: { name: string; type: "docker" | "process" },
  context: ExecutorContext,
) {
  const driver = context.driverFor(module.type);
  if (!driver) {
    throw new Error(`Cannot run ${module.name}: no container engine is available (agent.engine)`);
  }
  return driver;
}

async function pull(module: DesiredModule, context: ExecutorContext): Promise<void> {
  const driver = requireDriver(module, context);
  const layers = new Map<string, PullProgress>();
  let last = 0;
  context.onStatus(module.name, "unknown", `pulling ${module.image}`);
  const auth = credentialsFor(module.image, context.registryCredentials);
  try {
    await driver.pull(module.image, {
      ...(auth ? { auth } : {}),
      signal: context.signal,
      onProgress(progress) {
        if (progress.layer) layers.set(progress.layer, progress);
        const now = Date.now();
        if (now - last < 250) return;
        last = now;
        context.onStatus(module.name, "unknown", describeProgress(module.image, layers));
      },
    });
    context.logger.info(`pulled ${module.image}`, { module: module.name });
  } catch (error) {
    if (context.signal.aborted) throw error;
    // An image already on the device still deploys offline (IoT Edge does the same).
    const local = await driver.imageInspect(module.image, context.signal).catch(() => undefined);
    if (!local) throw error;
    context.logger.info(`using the local ${module.image}: the pull failed`, {
      module: module.name,
      error: message(error),
    });
  }
}

async function create(module: DesiredModule, context: ExecutorContext): Promise<void> {
  const driver = requireDriver(module, context);
  context.onStatus(module.name, "unknown", "creating");
  const container = module.type === "docker" ? await context.admit(module) : undefined;
  const provision = await context.provisioner.provisionModule(module.name);
  const env = buildModuleEnv(module, { provision, device: context.device });
  await driver.create({
    module,
    env,
    socketDir: provision.socketDir,
    network: context.network,
    hubHostname: context.device.gatewayHostname,
    ...(container ? { container } : {}),
  }, context.signal);
  context.logger.info(`created ${module.name}`, { configHash: module.configHash });
}

/**
 * Starts a module's instance. A restart counts once the instance started: one that fails counts
 * once, as a failure. An instance removed meanwhile (seen stopped by an `rm -f` that was still at
 * work) is neither: the next look misses it and recreates it, the one restart it is.
 */
async function start(step: StartStep, context: ExecutorContext): Promise<void> {
  const driver = requireDriver(step.module, context);
  context.onStatus(step.name, "unknown", "starting");
  try {
    await driver.start(step.name, context.signal);
  } catch (error) {
    if (!(error instanceof NoSuchInstanceError)) throw error;
    context.logger.info(`module ${step.name}: its instance was removed before it started`);
    return;
  }
  const { failure: _failure, vanished: _vanished, ...stats } = context.stats.get(step.name) ??
    FRESH_STATS;
  context.stats.set(
    step.name,
    step.restart
      ? { ...stats, restartCount: stats.restartCount + 1, lastRestartTime: context.now() }
      : stats,
  );
  context.logger.info(step.restart ? `restarted ${step.name}` : `started ${step.name}`, {
    restartCount: context.stats.get(step.name)?.restartCount ?? 0,
  });
}

async function perform(step: ActionStep, context: ExecutorContext): Promise<void> {
  const timeoutSeconds = context.stopTimeoutSeconds ?? 10;
  switch (step.kind) {
    case "pull":
      return await pull(step.module, context);
    case "create":
      return await create(step.module, context);
    case "start":
      return await start(step, context);
    case "stop": {
      const driver = requireDriver(step.instance, context);
      await driver.stop(step.name, { timeoutSeconds, signal: context.signal });
      context.logger.info(`stopped ${step.name}`, { reason: step.reason });
      return;
    }
    case "remove": {
      const driver = requireDriver(step.instance, context);
      if (step.instance.state === "running") {
        await driver.stop(step.name, { timeoutSeconds, signal: context.signal }).catch(() => {});
      }
      await driver.remove(step.name, context.signal);
      if (step.dropped) {
        await context.provisioner.removeModule(step.name);
        context.stats.delete(step.name);
      }
      context.logger.info(`removed ${step.name}`, { dropped: step.dropped });
      return;
    }
    case "recreate": {
      const driver = requireDriver(step.instance, context);
      context.onStatus(step.name, "unknown", "updating");
      if (step.instance.state === "running") {
        await driver.stop(step.name, { timeoutSeconds, signal: context.signal });
      }
      await driver.remove(step.name, context.signal);
      return await create(step.module, context);
    }
  }
}
