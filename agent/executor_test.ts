import assert from "node:assert/strict";
import { silentLogger } from "../core/log.ts";
import { module, NOW } from "./_plan_fixtures.ts";
import { type EngineDriver, NoSuchInstanceError } from "./engine/driver.ts";
import { executeSteps, type ExecutorContext } from "./executor.ts";
import type { RestartStats } from "./restart_policy.ts";

/** A context whose only driver call is `start`, answering with `start`. */
function context(
  start: () => Promise<void>,
  stats: Map<string, RestartStats>,
): ExecutorContext {
  const driver = { start } as unknown as EngineDriver;
  return {
    driverFor: () => driver,
    provisioner: {} as ExecutorContext["provisioner"],
    admit: () => Promise.reject(new Error("not used")),
    device: {} as ExecutorContext["device"],
    network: "ledge",
    registryCredentials: {},
    stats,
    now: () => NOW,
    onStatus: () => {},
    logger: silentLogger,
    signal: new AbortController().signal,
  };
}

const restart = { kind: "start", name: "alpha", module: module("alpha"), restart: true } as const;
const crashed: RestartStats = {
  restartCount: 2,
  vanished: { at: NOW - 5_000, configHash: "hash-alpha" },
};

Deno.test("a restart counts once it started, and clears what it recovered from", async () => {
  const stats = new Map([["alpha", crashed]]);
  const result = await executeSteps([restart], context(() => Promise.resolve(), stats));
  assert.equal(result.failed.size, 0);
  assert.deepEqual(stats.get("alpha"), { restartCount: 3, lastRestartTime: NOW });
});

Deno.test("a restart whose start fails counts once, as the failure it is", async () => {
  const stats = new Map([["alpha", crashed]]);
  const result = await executeSteps(
    [restart],
    context(() => Promise.reject(new Error("Cannot start alpha: OCI runtime error")), stats),
  );
  assert.equal(result.failed.get("alpha"), "Cannot start alpha: OCI runtime error");
  assert.equal(stats.get("alpha")?.restartCount, 3);
  assert.equal(stats.get("alpha")?.failure?.configHash, "hash-alpha");
});

Deno.test("an instance removed before its start counts nothing and fails nothing", async () => {
  // The next look misses it and recreates it: that recreation is the restart it counts.
  const stats = new Map([["alpha", { restartCount: 0 }]]);
  const result = await executeSteps(
    [restart],
    context(() => Promise.reject(new NoSuchInstanceError("Cannot start alpha: removed")), stats),
  );
  assert.equal(result.failed.size, 0);
  assert.deepEqual(stats.get("alpha"), { restartCount: 0 });
});
