/**
 * Module workloads: each module's identity, its X.509-SVID and its two sockets in
 * `<state>/mnt/<module>/` (the IoT Edge workload API and the SPIFFE Workload API), from
 * provisioning to removal.
 */
import { identityKey } from "../iothub/mod.ts";
import { createListeners } from "./_listeners.ts";
import type { SecurityState } from "./_security_state.ts";
import { generateGenerationId, type Identity, IdentityId, newSasAuth } from "./identity.ts";
import { identityRemoval } from "./identity_removal.ts";
import {
  createSpiffeSource,
  createWorkloadBackend,
  issueSvid,
  type ModuleRuntime,
} from "./module_apis.ts";
import { serveModuleSockets } from "./module_sockets.ts";
import type { RenewalScheduler } from "./renewal_scheduler.ts";
import type { ModuleProvision } from "./security_manager_api.ts";

function moduleKey(state: SecurityState, moduleId: string): string {
  return identityKey({ deviceId: state.config.device.id, moduleId });
}

/** The runtime of `moduleId`, created empty on first use. */
export function runtimeFor(state: SecurityState, moduleId: string): ModuleRuntime {
  const key = moduleKey(state, moduleId);
  let runtime = state.modules.get(key);
  if (!runtime) {
    runtime = {
      moduleId,
      svid: undefined,
      sockets: undefined,
      svidListeners: createListeners<void>((error) =>
        state.logger.error("a security listener failed", { error })
      ),
    };
    state.modules.set(key, runtime);
  }
  return runtime;
}

/** Issues the module's SVID if it has none and serves its sockets (idempotent). */
export async function serveModule(state: SecurityState, runtime: ModuleRuntime): Promise<void> {
  if (runtime.sockets) return;
  if (!runtime.svid) issueSvid(runtime, state.apiContext);
  runtime.sockets = await serveModuleSockets(`${state.mntDir}/${runtime.moduleId}`, {
    backend: createWorkloadBackend(runtime, state.apiContext),
    spiffe: createSpiffeSource(runtime, state.apiContext),
    logger: state.logger.child(runtime.moduleId),
  });
}

/** Closes every module's sockets (the daemon is stopping; identities stay). */
export async function closeModuleSockets(state: SecurityState): Promise<void> {
  await Promise.all([...state.modules.values()].map(async (runtime) => {
    await runtime.sockets?.close();
    runtime.sockets = undefined;
  }));
}

/** Creates the module's identity if missing and, while started, serves its sockets. */
export async function provisionModule(
  state: SecurityState,
  scheduler: RenewalScheduler,
  moduleId: string,
): Promise<ModuleProvision> {
  const { config } = state;
  const opened = await state.openRegistry();
  let identity = opened.get(config.device.id, moduleId);
  if (!identity) {
    identity = {
      deviceId: config.device.id,
      moduleId,
      kind: "module",
      generationId: generateGenerationId(),
      auth: newSasAuth(),
      createdAt: state.now().toISOString(),
    } satisfies Identity;
    await opened.add(identity);
    state.logger.info("module identity created", { module: moduleId });
  }
  const runtime = runtimeFor(state, identity.moduleId!);
  if (state.started) {
    await serveModule(state, runtime);
    scheduler.arm();
  }
  return { generationId: identity.generationId, socketDir: `${state.mntDir}/${runtime.moduleId}` };
}

/** Throws a RangeError naming `moduleId` unless it is an IoT Hub id that names no path. */
export function checkModuleId(moduleId: string): void {
  const parsed = IdentityId.safeParse(moduleId);
  if (!parsed.success) {
    throw new RangeError(
      `Cannot provision module "${moduleId}": ${parsed.error.issues[0]!.message}`,
    );
  }
}

/**
 * Deletes the module's identity, closes its sockets, removes its socket dir, and tells the
 * removal listeners (the hub closes its connections).
 */
export async function removeModule(
  state: SecurityState,
  scheduler: RenewalScheduler,
  moduleId: string,
): Promise<void> {
  const { config } = state;
  const opened = await state.openRegistry();
  const key = moduleKey(state, moduleId);
  const runtime = state.modules.get(key);
  state.modules.delete(key);
  await runtime?.sockets?.close();
  const identity = opened.get(config.device.id, moduleId);
  const dirName = runtime?.moduleId ?? identity?.moduleId ?? moduleId;
  if (IdentityId.safeParse(dirName).success) {
    await Deno.remove(`${state.mntDir}/${dirName}`, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
  if (identity) {
    await opened.remove(config.device.id, moduleId);
    state.logger.info("module identity removed", { module: identity.moduleId });
    state.removalListeners.emit(identityRemoval(identity));
  }
  scheduler.arm();
}
