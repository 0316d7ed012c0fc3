import assert from "node:assert/strict";
import type { ModuleInstance } from "./module_instance.ts";
import { refreshRestartStats, restartBackoffMs, shouldRestart } from "./restart_policy.ts";

const settings = { baseSeconds: 10, maxSeconds: 300, resetSeconds: 600 };

function instance(overrides: Partial<ModuleInstance>): ModuleInstance {
  return {
    name: "a",
    id: "1",
    type: "docker",
    state: "running",
    health: "none",
    exitCode: 0,
    startedAt: 0,
    finishedAt: undefined,
    configHash: "h",
    imageId: "",
    error: "",
    ...overrides,
  };
}

Deno.test("restartBackoffMs() doubles from the base and stays at the cap", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 100].map((n) => restartBackoffMs(n, settings)), [
    10_000,
    20_000,
    40_000,
    80_000,
    160_000,
    300_000,
    300_000,
    300_000,
  ]);
});

Deno.test("shouldRestart() follows IoT Edge's policy order", () => {
  assert.deepEqual(
    (["never", "on-failure", "on-unhealthy", "always"] as const).map((
      p,
    ) => [shouldRestart(p, 0), shouldRestart(p, 1)]),
    [[false, false], [false, true], [false, true], [true, true]],
  );
});

Deno.test("refreshRestartStats() resets the count after a run of resetSeconds", async (t) => {
  const stats = { restartCount: 7, lastRestartTime: 5 };
  await t.step("still running for long enough", () => {
    const running = instance({ startedAt: 1_000 });
    assert.equal(
      refreshRestartStats(stats, running, { now: 601_000, resetSeconds: 600 }).restartCount,
      0,
    );
    assert.equal(refreshRestartStats(stats, running, { now: 600_999, resetSeconds: 600 }), stats);
  });
  await t.step("exited after a long run", () => {
    const exited = instance({ state: "exited", startedAt: 0, finishedAt: 700_000 });
    assert.equal(
      refreshRestartStats(stats, exited, { now: 800_000, resetSeconds: 600 }).restartCount,
      0,
    );
  });
  await t.step("exited after a short run", () => {
    const exited = instance({ state: "exited", startedAt: 0, finishedAt: 5_000 });
    assert.equal(refreshRestartStats(stats, exited, { now: 800_000, resetSeconds: 600 }), stats);
  });
});
