/**
 * Plain desired modules and instances for the planner's unit tests (private to agent/).
 */
import type { DesiredModule } from "./deployment.ts";
import type { ModuleInstance } from "./module_instance.ts";

/** The tests' now (ms since the epoch). */
export const NOW = 1_000_000_000_000;
/** Back-off settings of the tests. */
export const BACKOFF = { baseSeconds: 10, maxSeconds: 300, resetSeconds: 600 };

/** A docker module `name` desired running, always restarted, pulled on create. */
export function module(name: string, overrides: Partial<DesiredModule> = {}): DesiredModule {
  return {
    name,
    type: "docker",
    version: "1.0",
    status: "running",
    restartPolicy: "always",
    imagePullPolicy: "on-create",
    startupOrder: 4294967295,
    env: {},
    image: `example/${name}:1`,
    createOptions: {},
    configHash: `hash-${name}`,
    ...overrides,
  };
}

/** A running instance of `name`, started a minute before {@linkcode NOW}. */
export function instance(name: string, overrides: Partial<ModuleInstance> = {}): ModuleInstance {
  return {
    name,
    id: `id-${name}`,
    type: "docker",
    state: "running",
    health: "none",
    exitCode: 0,
    startedAt: NOW - 60_000,
    finishedAt: undefined,
    configHash: `hash-${name}`,
    imageId: "sha256:abc",
    error: "",
    ...overrides,
  };
}
