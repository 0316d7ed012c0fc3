import assert from "node:assert/strict";
import { silentLogger } from "../core/log.ts";
import type { DesiredModule } from "./deployment.ts";
import type { EngineDriver } from "./engine/driver.ts";
import type { ModuleInstance } from "./module_instance.ts";
import { restartModule, startModule } from "./operator_actions.ts";
import type { Reconciler } from "./reconciler.ts";

const module = {
  name: "m",
  type: "docker",
  status: "running",
  configHash: "current",
} as DesiredModule;

function fixture(configHash: string) {
  const calls: string[] = [];
  const instance = { name: "m", state: "exited", configHash } as ModuleInstance;
  const driver = {
    inspect: () => Promise.resolve(instance),
    start: (name: string) => Promise.resolve(void calls.push(`start ${name}`)),
    stop: (name: string) => Promise.resolve(void calls.push(`stop ${name}`)),
  } as unknown as EngineDriver;
  const reconciler = {
    operate: <T>(action: () => Promise<T>) => action(),
    driverFor: () => driver,
    resetStats: () => {},
    setOverride: () => {},
  } as unknown as Reconciler;
  return { calls, reconciler };
}

Deno.test("restartModule() and startModule() start only an instance of the current config and policy", async () => {
  const current = fixture("current");
  await restartModule(current.reconciler, module, silentLogger);
  await startModule(current.reconciler, module);
  assert.deepEqual(current.calls, ["stop m", "start m", "start m"]);

  // Made by an older ledge or under another [agent.allow]: the loop recreates it, never started.
  const stale = fixture("made-under-another-policy");
  await restartModule(stale.reconciler, module, silentLogger);
  await startModule(stale.reconciler, module);
  assert.deepEqual(stale.calls, ["stop m"]);
});
