import assert from "node:assert/strict";
import { BACKOFF, instance, module, NOW } from "./_plan_fixtures.ts";
import { type PlanOptions, planSteps } from "./planner.ts";
import type { Step } from "./step.ts";

function options(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return { now: NOW, stats: {}, backoff: BACKOFF, ...overrides };
}

/** Steps as `kind name` strings, reports as `report name status`. */
function summary(steps: Step[]): string[] {
  return steps.map((s) =>
    s.kind === "report" ? `report ${s.name} ${s.status}` : `${s.kind} ${s.name}`
  );
}

function actions(steps: Step[]): string[] {
  return summary(steps.filter((s) => s.kind !== "report"));
}

Deno.test("planSteps() does nothing before any deployment", () => {
  assert.deepEqual(planSteps([instance("a")], undefined, options()), []);
});

Deno.test("planSteps() pulls, creates and starts a new module", () => {
  const steps = planSteps([], { modules: [module("a")] }, options());
  assert.deepEqual(summary(steps), ["pull a", "create a", "start a", "report a unknown"]);
  const start = steps.find((s) => s.kind === "start");
  assert.equal(start?.kind === "start" && start.restart, false);
});

Deno.test("planSteps() skips the pull when imagePullPolicy is never, and for process modules", () => {
  const never = planSteps([], { modules: [module("a", { imagePullPolicy: "never" })] }, options());
  assert.deepEqual(actions(never), ["create a", "start a"]);
  const process = module("p", {
    type: "process",
    image: "",
    process: { command: "sh", args: [], workdir: "" },
  });
  assert.deepEqual(actions(planSteps([], { modules: [process] }, options())), [
    "create p",
    "start p",
  ]);
});

Deno.test("planSteps() leaves a running module with the same config alone", () => {
  const steps = planSteps([instance("a")], { modules: [module("a")] }, options());
  assert.deepEqual(summary(steps), ["report a running"]);
});

Deno.test("planSteps() recreates a module whose config changed, and only that one", () => {
  const steps = planSteps(
    [instance("a"), instance("b")],
    { modules: [module("a"), module("b", { configHash: "hash-b-new-env" })] },
    options(),
  );
  assert.deepEqual(actions(steps), ["pull b", "recreate b", "start b"]);
  const recreate = steps.find((s) => s.kind === "recreate");
  assert.equal(recreate?.kind === "recreate" && recreate.instance.id, "id-b");
});

Deno.test("planSteps() stops a running module whose desired status is stopped", () => {
  const steps = planSteps(
    [instance("a")],
    { modules: [module("a", { status: "stopped" })] },
    options(),
  );
  assert.deepEqual(summary(steps), ["stop a", "report a stopped"]);
});

Deno.test("planSteps() starts a stopped module whose desired status is running", () => {
  const stopped = instance("a", { state: "created", startedAt: undefined });
  assert.deepEqual(actions(planSteps([stopped], { modules: [module("a")] }, options())), [
    "start a",
  ]);
});

Deno.test("planSteps() creates a module desired stopped without starting it", () => {
  const steps = planSteps([], { modules: [module("a", { status: "stopped" })] }, options());
  assert.deepEqual(summary(steps), ["pull a", "create a", "report a stopped"]);
});

Deno.test("planSteps() removes owned instances that left the deployment", () => {
  const steps = planSteps([instance("a"), instance("gone")], { modules: [module("a")] }, options());
  assert.deepEqual(actions(steps), ["remove gone"]);
  const remove = steps.find((s) => s.kind === "remove");
  assert.equal(remove?.kind === "remove" && remove.dropped, true);
});

Deno.test("planSteps() removes everything owned for a deployment with no modules", () => {
  const steps = planSteps([instance("a"), instance("b")], { modules: [] }, options());
  assert.deepEqual(actions(steps), ["remove a", "remove b"]);
});

Deno.test("planSteps() never plans for instances it was not given (unowned containers)", () => {
  // The drivers hand the planner only this ledge's instances; whatever else runs on the engine
  // is invisible to it, so no step can name it.
  const steps = planSteps([instance("mine")], { modules: [module("mine")] }, options());
  assert.ok(steps.every((s) => s.name === "mine"));
  const foreign = { ...instance("theirs"), id: "foreign" };
  const withForeign = planSteps(
    [instance("mine")],
    { modules: [module("mine"), module("theirs")] },
    options(),
  );
  assert.ok(!withForeign.some((s) => "instance" in s && s.instance.id === foreign.id));
});

Deno.test("planSteps() keeps one instance of a module and removes duplicates", () => {
  const steps = planSteps(
    [
      instance("a", { id: "old", configHash: "stale", state: "exited" }),
      instance("a", { id: "new" }),
    ],
    { modules: [module("a")] },
    options(),
  );
  assert.deepEqual(actions(steps), ["remove a"]);
  const remove = steps.find((s) => s.kind === "remove");
  assert.equal(remove?.kind === "remove" && remove.instance.id, "old");
  assert.equal(remove?.kind === "remove" && remove.dropped, false);
});

Deno.test("planSteps() starts startupOrder groups lowest first, equal values together", async (t) => {
  const modules = [
    module("db", { startupOrder: 0 }),
    module("cache", { startupOrder: 0 }),
    module("app", { startupOrder: 1 }),
    module("ui", { startupOrder: 2 }),
  ];
  await t.step("an empty device gets only the first group", () => {
    const steps = planSteps([], { modules }, options());
    assert.deepEqual(actions(steps), [
      "pull db",
      "create db",
      "start db",
      "pull cache",
      "create cache",
      "start cache",
    ]);
    const waiting = steps.filter((s) =>
      s.kind === "report" && s.status === "unknown" && /startupOrder 0/.test(s.description)
    );
    assert.deepEqual(waiting.map((s) => s.name), ["app", "ui"]);
  });
  await t.step("the next group waits until every module before it runs", () => {
    const steps = planSteps([instance("db")], { modules }, options());
    assert.deepEqual(actions(steps), ["pull cache", "create cache", "start cache"]);
  });
  await t.step("once the first group runs, the second starts", () => {
    const steps = planSteps([instance("db"), instance("cache")], { modules }, options());
    assert.deepEqual(actions(steps), ["pull app", "create app", "start app"]);
  });
  await t.step("a crash-looping module in an earlier group does not block later ones", () => {
    const crashing = instance("db", { state: "exited", exitCode: 1, finishedAt: NOW - 1000 });
    const steps = planSteps([crashing, instance("cache")], {
      modules,
    }, options({ stats: { db: { restartCount: 3 } } }));
    assert.deepEqual(actions(steps), ["wait-backoff db", "pull app", "create app", "start app"]);
  });
  await t.step("a module denied by policy does not block later ones", () => {
    const steps = planSteps(
      [instance("cache")],
      { modules },
      options({ denied: { db: "denied" } }),
    );
    assert.deepEqual(actions(steps), ["pull app", "create app", "start app"]);
  });
});

Deno.test("planSteps() restarts exited modules per restart policy", async (t) => {
  const exited = (exitCode: number) =>
    instance("a", { state: "exited", exitCode, finishedAt: NOW - 3_600_000 });
  const cases = [
    ["never", 0, [], "stopped"],
    ["never", 1, [], "failed"],
    ["on-failure", 0, [], "stopped"],
    ["on-failure", 2, ["start a"], "backoff"],
    ["on-unhealthy", 0, [], "stopped"],
    ["on-unhealthy", 2, ["start a"], "backoff"],
    ["always", 0, ["start a"], "backoff"],
    ["always", 137, ["start a"], "backoff"],
  ] as const;
  for (const [policy, code, expected, status] of cases) {
    await t.step(`${policy} with exit code ${code}`, () => {
      const steps = planSteps(
        [exited(code)],
        { modules: [module("a", { restartPolicy: policy })] },
        options(),
      );
      assert.deepEqual(actions(steps), expected);
      assert.equal(
        steps.find((s) => s.kind === "report")?.kind === "report" &&
          (steps.find((s) => s.kind === "report") as { status: string }).status,
        status,
      );
      const start = steps.find((s) => s.kind === "start");
      if (start?.kind === "start") assert.equal(start.restart, true);
    });
  }
});

Deno.test("planSteps() waits out the back-off min(base * 2^n, max) from the last exit", async (t) => {
  const modules = [module("a")];
  const exitedAt = NOW;
  const cases = [
    [0, 10_000],
    [1, 20_000],
    [3, 80_000],
    [5, 300_000],
    [40, 300_000],
  ] as const;
  for (const [restartCount, delay] of cases) {
    await t.step(`after ${restartCount} restarts the wait is ${delay / 1000} s`, () => {
      const exited = instance("a", { state: "exited", exitCode: 1, finishedAt: exitedAt });
      const stats = { a: { restartCount } };
      const before = planSteps(
        [exited],
        { modules },
        options({ now: exitedAt + delay - 1, stats }),
      );
      assert.deepEqual(actions(before), ["wait-backoff a"]);
      const wait = before.find((s) => s.kind === "wait-backoff");
      assert.equal(wait?.kind === "wait-backoff" && wait.until, exitedAt + delay);
      assert.equal(wait?.kind === "wait-backoff" && wait.restartCount, restartCount);
      const report = before.find((s) => s.kind === "report");
      assert.equal(report?.kind === "report" && report.status, "backoff");
      const after = planSteps([exited], { modules }, options({ now: exitedAt + delay, stats }));
      assert.deepEqual(actions(after), ["start a"]);
    });
  }
});

Deno.test("planSteps() backs off after a failed pull or create, for that config only", () => {
  const failure = {
    at: NOW - 5000,
    message: "Cannot pull example/a:1: not found",
    configHash: "hash-a",
  };
  const stats = { a: { restartCount: 1, failure } };
  const waiting = planSteps([], { modules: [module("a")] }, options({ stats }));
  assert.deepEqual(actions(waiting), ["wait-backoff a"]);
  const report = waiting.find((s) => s.kind === "report");
  assert.equal(report?.kind === "report" && report.description, failure.message);
  const retried = planSteps([], { modules: [module("a")] }, options({ stats, now: NOW + 15_000 }));
  assert.deepEqual(actions(retried), ["pull a", "create a", "start a"]);
  const changed = planSteps(
    [],
    { modules: [module("a", { configHash: "hash-a2" })] },
    options({ stats }),
  );
  assert.deepEqual(actions(changed), ["pull a", "create a", "start a"]);
});

Deno.test("planSteps() stops an unhealthy module only when its policy says so", () => {
  const sick = instance("a", { health: "unhealthy" });
  const restart = planSteps(
    [sick],
    { modules: [module("a", { restartPolicy: "on-unhealthy" })] },
    options(),
  );
  assert.deepEqual(summary(restart), ["stop a", "report a unhealthy"]);
  const keep = planSteps(
    [sick],
    { modules: [module("a", { restartPolicy: "on-failure" })] },
    options(),
  );
  assert.deepEqual(summary(keep), ["report a unhealthy"]);
});

Deno.test("planSteps() fails a denied module, removing its instance, and deploys the others", () => {
  const steps = planSteps(
    [instance("bad")],
    { modules: [module("bad"), module("good")] },
    options({ denied: { bad: "createOptions denied: HostConfig.Privileged" } }),
  );
  assert.deepEqual(summary(steps), [
    "remove bad",
    "report bad failed",
    "pull good",
    "create good",
    "start good",
    "report good unknown",
  ]);
});

Deno.test("planSteps() follows operator overrides of the desired status", () => {
  const steps = planSteps(
    [instance("a")],
    { modules: [module("a")] },
    options({ overrides: { a: "stopped" } }),
  );
  assert.deepEqual(actions(steps), ["stop a"]);
});

Deno.test("planSteps() starts modules a reboot stopped, even when their policy would not", () => {
  const exited = instance("a", { state: "exited", exitCode: 0, finishedAt: NOW - 60_000 });
  const modules = [module("a", { restartPolicy: "on-failure" })];
  const afterBoot = planSteps([exited], { modules }, options({ agentStartedAt: NOW - 1000 }));
  assert.deepEqual(actions(afterBoot), ["start a"]);
  const never = planSteps(
    [exited],
    { modules: [module("a", { restartPolicy: "never" })] },
    options({ agentStartedAt: NOW - 1000 }),
  );
  assert.deepEqual(actions(never), []);
});

Deno.test("planSteps() targets the newest desired state whatever was in flight (supersession)", () => {
  // Deployment A was being applied: its container for "a" exists but has not started yet.
  const halfway = instance("a", {
    state: "created",
    configHash: "hash-a-v1",
    startedAt: undefined,
  });
  // Deployment B replaces it before the start: the stale container is recreated, not started.
  const steps = planSteps(
    [halfway],
    { modules: [module("a", { configHash: "hash-a-v2" })] },
    options(),
  );
  assert.deepEqual(actions(steps), ["pull a", "recreate a", "start a"]);
  // And a module only A wanted is removed.
  const dropped = planSteps([halfway], { modules: [module("b")] }, options());
  assert.deepEqual(actions(dropped), ["remove a", "pull b", "create b", "start b"]);
});

Deno.test("planSteps() gives every desired module exactly one report", () => {
  const modules = [
    module("a"),
    module("b", { startupOrder: 1 }),
    module("c", { status: "stopped" }),
  ];
  const steps = planSteps([instance("a", { state: "exited", exitCode: 3, finishedAt: NOW })], {
    modules,
  }, options());
  const reports = steps.filter((s) => s.kind === "report").map((s) => s.name).sort();
  assert.deepEqual(reports, ["a", "b", "c"]);
});
