import assert from "node:assert/strict";
import { createLogger } from "../core/log.ts";
import { type Deployment, parseDeployment } from "./deployment.ts";
import { deploymentProblems, type HealthView } from "./deployment_health.ts";
import type { ModuleInstance } from "./module_instance.ts";
import { RollbackGuard, type RolledBack } from "./rollback.ts";
import type { StoredDeployment } from "./store.ts";

function manifest(modules: Record<string, { restartPolicy?: string; status?: string }>) {
  return {
    modulesContent: {
      $edgeAgent: {
        "properties.desired": {
          schemaVersion: "1.1",
          modules: Object.fromEntries(
            Object.entries(modules).map(([name, spec]) => [name, {
              type: "docker",
              status: spec.status ?? "running",
              restartPolicy: spec.restartPolicy ?? "always",
              settings: { image: name },
            }]),
          ),
        },
      },
    },
  };
}

function instance(name: string, fields: Partial<ModuleInstance>): ModuleInstance {
  return {
    name,
    id: name,
    type: "docker",
    state: "running",
    health: "none",
    exitCode: 0,
    startedAt: 0,
    finishedAt: undefined,
    configHash: "",
    imageId: "",
    error: "",
    ...fields,
  };
}

function view(instances: ModuleInstance[]): HealthView {
  return {
    instances: new Map(instances.map((i) => [i.name, i])),
    statuses: new Map(instances.map((i) => [i.name, {
      status: i.state === "running" ? "running" as const : "backoff" as const,
      description: i.state === "running" ? "" : `exited with code ${i.exitCode}`,
    }])),
  };
}

Deno.test("deploymentProblems() wants every module running stably and healthy", async (t) => {
  const deployment = parseDeployment(
    manifest({ a: {}, job: { restartPolicy: "never" }, off: { status: "stopped" } }),
  );
  const options = { now: 60_000, stableMs: 10_000 };
  await t.step("all running long enough: none", () => {
    const v = view([instance("a", {}), instance("job", { state: "exited", exitCode: 0 })]);
    assert.deepEqual(deploymentProblems(deployment, v, options), []);
  });
  await t.step("a crash loop never counts: its current run is too short", () => {
    const v = view([instance("a", { startedAt: 59_500 }), instance("job", { state: "exited" })]);
    assert.deepEqual(deploymentProblems(deployment, v, options), [
      "a: running for 0 s of the 10 s it must",
    ]);
  });
  await t.step("exited, unhealthy, a one-shot that failed, a module never started", () => {
    const v = view([
      instance("a", { health: "unhealthy" }),
      instance("job", { state: "exited", exitCode: 3 }),
    ]);
    assert.deepEqual(deploymentProblems(deployment, v, options), [
      "a: unhealthy",
      "job: backoff (exited with code 3)",
    ]);
    assert.deepEqual(deploymentProblems(deployment, view([]), options), [
      "a: not started",
      "job: not started",
    ]);
  });
});

interface Harness {
  guard: RollbackGuard;
  clock: { now: number };
  current: { view: HealthView };
  rolledBackTo: { good: StoredDeployment; from: Deployment; reason: string }[];
  files: { good?: StoredDeployment; rolledBack?: RolledBack | undefined };
}

function harness(afterSeconds = 30): Harness {
  const clock = { now: 0 };
  const current = { view: view([]) };
  const rolledBackTo: Harness["rolledBackTo"] = [];
  const files: Harness["files"] = {};
  const guard = new RollbackGuard({
    afterSeconds,
    now: () => clock.now,
    files: {
      loadGood: () => Promise.resolve(files.good),
      saveGood: (good) => Promise.resolve(void (files.good = good)),
      loadRolledBack: () => Promise.resolve(files.rolledBack),
      saveRolledBack: (r) => Promise.resolve(void (files.rolledBack = r)),
    },
    view: () => current.view,
    rollback: (good, from, reason) =>
      Promise.resolve(void rolledBackTo.push({ good, from, reason })),
    onChange: () => {},
    logger: createLogger({ level: "error" }),
  });
  return { guard, clock, current, rolledBackTo, files };
}

function stored(version: number, modules: Record<string, object>): [Deployment, StoredDeployment] {
  const raw = manifest(modules);
  const deployment = parseDeployment(raw, { version });
  return [deployment, { version, acceptedAt: "", manifest: deployment.manifest }];
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("RollbackGuard keeps a deployment that runs healthy and rolls back one that does not", async () => {
  const h = harness(30);
  try {
    const [v1, s1] = stored(1, { a: {} });
    h.guard.watch(v1, s1, true);
    assert.equal(h.guard.health()?.state, "checking");
    h.current.view = view([instance("a", { startedAt: 0 })]);
    h.clock.now = 10_000;
    h.guard.check();
    await settle();
    assert.equal(h.guard.health()?.state, "healthy");
    assert.equal(h.files.good?.version, 1);

    const [v2, s2] = stored(2, { a: {}, b: {} });
    h.guard.watch(v2, s2, true);
    h.current.view = view([
      instance("a", { startedAt: 0 }),
      instance("b", { state: "exited", exitCode: 1 }),
    ]);
    h.clock.now = 39_999;
    h.guard.check();
    await settle();
    assert.equal(h.rolledBackTo.length, 0, "not before the deadline");
    h.clock.now = 40_000;
    h.guard.check();
    await settle();
    assert.equal(h.rolledBackTo.length, 1);
    assert.equal(h.rolledBackTo[0]!.good.version, 1);
    assert.match(
      h.rolledBackTo[0]!.reason,
      /^rolled back from version 2 to 1: not running as it should within 30 s: b: backoff \(exited with code 1\)$/,
    );
    assert.equal(h.guard.health()?.state, "rolled-back");
    assert.ok(h.guard.rolledBack(s2.manifest), "the same content is known as rolled back");
    assert.equal(h.guard.rolledBack(s1.manifest), undefined);
  } finally {
    h.guard.stop();
  }
});

Deno.test("RollbackGuard reports, but never rolls back, without a good deployment or with --no-rollback", async () => {
  const h = harness(5);
  try {
    const [v1, s1] = stored(1, { a: {} });
    h.guard.watch(v1, s1, true);
    h.clock.now = 5000;
    h.guard.check();
    await settle();
    assert.equal(h.rolledBackTo.length, 0);
    assert.equal(h.guard.health()?.state, "failed");
    assert.match(h.guard.health()?.reason ?? "", /no earlier deployment ran healthy to go back to/);

    h.files.good = s1;
    await h.guard.load();
    const [v2, s2] = stored(2, { b: {} });
    h.guard.watch(v2, s2, false);
    h.clock.now = 20_000;
    h.guard.check();
    await settle();
    assert.equal(h.rolledBackTo.length, 0);
    assert.equal(h.guard.health()?.state, "failed");
  } finally {
    h.guard.stop();
  }
});
