import assert from "node:assert/strict";
import { BACKOFF, instance, module, NOW } from "./_plan_fixtures.ts";
import type { ModuleInstance } from "./module_instance.ts";
import { type PlanOptions, planSteps } from "./planner.ts";
import type { Step } from "./step.ts";
import { type SeenInstances, takeVanished } from "./vanished.ts";

const BOTH = new Set<ModuleInstance["type"]>(["docker", "process"]);

function summary(steps: Step[]): string[] {
  return steps.map((s) =>
    s.kind === "report"
      ? `report ${s.name} ${s.status}`
      : s.kind === "start"
      ? `start ${s.name}${s.restart ? " (restart)" : ""}`
      : `${s.kind} ${s.name}`
  );
}

function vanishedAt(at: number, overrides: Partial<PlanOptions> = {}): PlanOptions {
  return {
    now: NOW,
    backoff: BACKOFF,
    stats: { a: { restartCount: 0, vanished: { at, configHash: "hash-a" } } },
    ...overrides,
  };
}

Deno.test("takeVanished() finds a desired module whose instance is gone since the last look", () => {
  const seen: SeenInstances = new Map();
  const desired = [module("a"), module("b")];
  assert.deepEqual(
    takeVanished(seen, { current: [instance("a"), instance("b")], desired, looked: BOTH }),
    [],
  );
  const gone = takeVanished(seen, { current: [instance("b")], desired, looked: BOTH });
  assert.deepEqual(gone.map((m) => m.name), ["a"]);
  assert.deepEqual(
    takeVanished(seen, { current: [instance("b")], desired, looked: BOTH }),
    [],
    "reported once",
  );
});

Deno.test("takeVanished() misses nothing the agent never saw, or saw with another config", () => {
  const seen: SeenInstances = new Map();
  assert.deepEqual(takeVanished(seen, { current: [], desired: [module("a")], looked: BOTH }), []);
  takeVanished(seen, { current: [instance("a")], desired: [module("a")], looked: BOTH });
  const changed = [module("a", { configHash: "hash-a-2" })];
  assert.deepEqual(takeVanished(seen, { current: [], desired: changed, looked: BOTH }), []);
});

Deno.test("takeVanished() forgets nothing of an engine it could not look at", () => {
  const seen: SeenInstances = new Map();
  const desired = [module("a"), module("p", { type: "process" })];
  const both = [instance("a"), instance("p", { type: "process" })];
  takeVanished(seen, { current: both, desired, looked: BOTH });
  const processOnly = new Set<ModuleInstance["type"]>(["process"]);
  assert.deepEqual(
    takeVanished(seen, { current: [both[1]!], desired, looked: processOnly }),
    [],
    "the engine is away: its containers are not gone",
  );
  const back = takeVanished(seen, { current: [both[1]!], desired, looked: BOTH });
  assert.deepEqual(back.map((m) => m.name), ["a"], "gone while the engine was away");
});

Deno.test("takeVanished() does not miss a module that left the deployment", () => {
  const seen: SeenInstances = new Map();
  takeVanished(seen, { current: [instance("a")], desired: [module("a")], looked: BOTH });
  assert.deepEqual(takeVanished(seen, { current: [], desired: [], looked: BOTH }), []);
  assert.deepEqual(
    takeVanished(seen, { current: [], desired: [module("a")], looked: BOTH }),
    [],
  );
});

Deno.test("planSteps() recreates a vanished module as a restart once its back-off ends", () => {
  const due = planSteps([], { modules: [module("a")] }, vanishedAt(NOW - 10_000));
  assert.deepEqual(summary(due), ["pull a", "create a", "start a (restart)", "report a unknown"]);
  const waiting = planSteps([], { modules: [module("a")] }, vanishedAt(NOW - 1000));
  assert.deepEqual(summary(waiting), ["wait-backoff a", "report a backoff"]);
  const report = waiting.find((s) => s.kind === "report");
  assert.match(report?.kind === "report" ? report.description : "", /removed outside ledge/);
});

Deno.test("planSteps() leaves a vanished module down under restartPolicy never", () => {
  const steps = planSteps(
    [],
    { modules: [module("a", { restartPolicy: "never" })] },
    vanishedAt(NOW - 60_000),
  );
  assert.deepEqual(summary(steps), ["report a failed"]);
});

Deno.test("planSteps() ignores a vanishing of another config, or one with an instance again", () => {
  const other = planSteps(
    [],
    { modules: [module("a", { configHash: "hash-a-2" })] },
    vanishedAt(NOW),
  );
  assert.deepEqual(summary(other), ["pull a", "create a", "start a", "report a unknown"]);
  const back = planSteps([instance("a")], { modules: [module("a")] }, vanishedAt(NOW));
  assert.deepEqual(summary(back), ["report a running"]);
});
