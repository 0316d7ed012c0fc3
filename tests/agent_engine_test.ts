/**
 * The agent against real engines: Podman's compatible API and Docker run the same suite on
 * local busybox images. Each check is made with the engine's own command line tool, not with
 * the driver under test.
 */
import assert from "node:assert/strict";
import type { EdgeAgentReported } from "../agent/mod.ts";
import { INSTANCE_LABEL, OWNER_LABEL, OWNER_VALUE } from "../agent/engine/labels.ts";
import { engineCli, ENGINES, type TestEngine, testImage } from "./_engines.ts";
import { MODULE_SH, reportedModule, startAgentHarness } from "./_agent_harness.ts";
import { waitFor } from "./_wait.ts";
import { serviceTest } from "./_services.ts";

interface Inspected {
  Id: string;
  State: { Running: boolean; StartedAt: string; FinishedAt: string; ExitCode: number };
  Config: { Env: string[]; Labels: Record<string, string> };
  HostConfig: { Binds: string[] | null; Privileged: boolean };
}

async function inspect(engine: TestEngine, name: string): Promise<Inspected | undefined> {
  try {
    return (JSON.parse(
      await engineCli(engine, ["inspect", "--type", "container", name]),
    ) as Inspected[])[0];
  } catch {
    return undefined;
  }
}

/** The containers of `modules` (named as in the example manifest), by those names. */
async function inspectAll(engine: TestEngine, modules: Module[]) {
  return Object.fromEntries(
    await Promise.all(modules.map(async (n) => [n, await inspect(engine, N[n])] as const)),
  );
}

// deno-lint-ignore no-explicit-any
type Manifest = any;

/** The example manifest's module names (and the one a step adds). */
type Module = "alpha" | "bravo" | "charlie" | "delta";

/**
 * The names the modules, and so their containers, get in this run: unique, because the engines
 * are shared with the other tests and worktrees running at the same time.
 */
const RUN = crypto.randomUUID().slice(0, 8);
const N: Record<Module, string> = {
  alpha: `alpha${RUN}`,
  bravo: `bravo${RUN}`,
  charlie: `charlie${RUN}`,
  delta: `delta${RUN}`,
};

async function baseManifest(image: string): Promise<Manifest> {
  const manifest = JSON.parse(
    await Deno.readTextFile(new URL("../examples/manifests/three_modules.json", import.meta.url)),
  );
  const modules = modulesOf(manifest);
  for (const [name, module] of Object.entries(modules) as [Module, Manifest][]) {
    module.settings.image = image;
    delete modules[name];
    modules[N[name]] = module;
  }
  return manifest;
}

function modulesOf(manifest: Manifest): Record<string, Manifest> {
  return manifest.modulesContent.$edgeAgent["properties.desired"].modules;
}

function edit(manifest: Manifest, change: (modules: Record<string, Manifest>) => void): Manifest {
  const copy = structuredClone(manifest);
  change(modulesOf(copy));
  return copy;
}

const time = (iso: string) => Date.parse(iso);

for (const engine of ENGINES) {
  serviceTest(
    `agent converges deployments on ${engine.name} and keeps modules running`,
    [engine.requirement],
    async (t) => {
      const image = await testImage(engine, {
        name: "agent-module",
        files: { "/bin/module.sh": MODULE_SH },
      });
      const manifest = await baseManifest(image);
      const h = await startAgentHarness({ engine });
      const seen: EdgeAgentReported[] = [];
      let unsubscribe = h.agent().onReportedChange((reported) => seen.push(reported));
      try {
        await t.step(
          "deploys three modules, starting startupOrder groups one after the other",
          async () => {
            const { status } = await h.api("PUT", "/v1/deployment", manifest);
            assert.equal(status, 200);
            await h.settle(
              (rows) =>
                (["alpha", "bravo", "charlie"] as const).every((n) =>
                  rows.get(N[n])?.status === "running"
                ),
              "three modules running",
            );
            const c = await inspectAll(engine, ["alpha", "bravo", "charlie"]);
            assert.ok(
              time(c.alpha!.State.StartedAt) < time(c.bravo!.State.StartedAt),
              "alpha before bravo",
            );
            assert.ok(
              time(c.bravo!.State.StartedAt) < time(c.charlie!.State.StartedAt),
              "bravo before charlie",
            );
          },
        );

        await t.step(
          "gives each container its identity, socket dir, env and ownership labels",
          async () => {
            const alpha = (await inspect(engine, N.alpha))!;
            const env = new Map(
              alpha.Config.Env.map((
                e,
              ) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
            );
            assert.equal(env.get("IOTEDGE_MODULEID"), N.alpha);
            assert.equal(env.get("IOTEDGE_DEVICEID"), "edge-test");
            assert.equal(env.get("IOTEDGE_IOTHUBHOSTNAME"), "ledge-hub.example");
            assert.equal(env.get("IOTEDGE_GATEWAYHOSTNAME"), "ledge-gateway");
            assert.equal(env.get("IOTEDGE_WORKLOADURI"), "unix:///var/run/iotedge/workload.sock");
            assert.equal(env.get("COLOR"), "red");
            assert.ok(env.get("IOTEDGE_MODULEGENERATIONID"));
            assert.ok(
              alpha.HostConfig.Binds?.some((b) =>
                b.startsWith(`${h.stateDir}/mnt/${N.alpha}:/var/run/iotedge`)
              ),
              String(alpha.HostConfig.Binds),
            );
            assert.equal(alpha.Config.Labels[OWNER_LABEL], OWNER_VALUE);
            assert.equal(alpha.Config.Labels[INSTANCE_LABEL], h.instance);
            const logs = await h.api<unknown>("GET", `/v1/modules/${N.alpha}/logs?tail=5`);
            assert.equal(logs.status, 200);
          },
        );

        await t.step("rejects a bad manifest with its JSON path and changes nothing", async () => {
          const before = await inspectAll(engine, ["alpha", "bravo", "charlie"]);
          const bad = edit(manifest, (m) => (m[N.alpha].restartPolicy = "sometimes"));
          const { status, body } = await h.api<
            { error: string; detail: { issues: { path: string }[] } }
          >("PUT", "/v1/deployment", bad);
          assert.equal(status, 400);
          assert.equal(
            body.detail.issues[0]?.path,
            `modulesContent.$edgeAgent["properties.desired"].modules.${N.alpha}.restartPolicy`,
          );
          const reported = h.agent().reported();
          assert.equal(reported.lastDesiredStatus.code, 400);
          assert.match(reported.lastDesiredStatus.description, /restartPolicy/);
          const after = await inspectAll(engine, ["alpha", "bravo", "charlie"]);
          for (const name of ["alpha", "bravo", "charlie"]) {
            assert.equal(after[name]?.Id, before[name]?.Id);
          }
          assert.equal(reportedModule(reported, N.alpha).runtimeStatus, "running");
        });

        const orange = edit(manifest, (m) => (m[N.alpha].env.COLOR.value = "orange"));
        await t.step("recreates only the module whose env changed", async () => {
          const before = await inspectAll(engine, ["alpha", "bravo", "charlie"]);
          assert.equal((await h.api("PUT", "/v1/deployment", orange)).status, 200);
          await waitFor(
            "alpha recreated",
            async () => (await inspect(engine, N.alpha))?.Id !== before.alpha?.Id,
          );
          await h.settle((rows) => rows.get(N.alpha)?.status === "running", "alpha running again");
          const after = await inspectAll(engine, ["alpha", "bravo", "charlie"]);
          assert.ok(after.alpha!.Config.Env.includes("COLOR=orange"));
          assert.equal(after.bravo?.Id, before.bravo?.Id);
          assert.equal(after.charlie?.Id, before.charlie?.Id);
          assert.equal(after.bravo?.State.StartedAt, before.bravo?.State.StartedAt);
        });

        await t.step(
          "restarts a container killed from outside, with growing back-off",
          async () => {
            const first = (await inspect(engine, N.bravo))!;
            await engineCli(engine, ["kill", N.bravo]);
            await waitFor(
              "bravo restarted",
              async () =>
                (await inspect(engine, N.bravo))?.State.StartedAt !== first.State.StartedAt &&
                (await inspect(engine, N.bravo))!.State.Running,
            );
            const second = (await inspect(engine, N.bravo))!;
            assert.equal(second.Id, first.Id);
            assert.ok(
              time(second.State.StartedAt) - time(second.State.FinishedAt) >= 950,
              `restart waited the 1 s back-off (${second.State.FinishedAt} → ${second.State.StartedAt})`,
            );
            await engineCli(engine, ["kill", N.bravo]);
            await waitFor(
              "bravo restarted again",
              async () =>
                (await inspect(engine, N.bravo))?.State.StartedAt !== second.State.StartedAt &&
                (await inspect(engine, N.bravo))!.State.Running,
            );
            const third = (await inspect(engine, N.bravo))!;
            assert.ok(
              time(third.State.StartedAt) - time(third.State.FinishedAt) >= 1950,
              `second restart waited 2 s (${third.State.FinishedAt} → ${third.State.StartedAt})`,
            );
            await h.settle((rows) => rows.get(N.bravo)?.status === "running", "bravo running");
            const bravo = reportedModule(h.agent().reported(), N.bravo);
            assert.equal(bravo.restartCount, 2);
            assert.notEqual(bravo.lastRestartTimeUtc, "0001-01-01T00:00:00Z");
            assert.ok(
              seen.some((r) => r.modules[N.bravo]?.runtimeStatus === "backoff"),
              "reported backoff while waiting",
            );
          },
        );

        await t.step(
          "stops a module whose desired status becomes stopped, leaving the others",
          async () => {
            const before = await inspectAll(engine, ["alpha", "charlie"]);
            const stopped = edit(orange, (m) => (m[N.bravo].status = "stopped"));
            assert.equal((await h.api("PUT", "/v1/deployment", stopped)).status, 200);
            await h.settle((rows) => rows.get(N.bravo)?.status === "stopped", "bravo stopped");
            assert.equal((await inspect(engine, N.bravo))?.State.Running, false);
            const after = await inspectAll(engine, ["alpha", "charlie"]);
            assert.equal(after.alpha?.State.StartedAt, before.alpha?.State.StartedAt);
            assert.equal(after.charlie?.State.StartedAt, before.charlie?.State.StartedAt);
          },
        );

        const withoutCharlie = edit(orange, (m) => delete m[N.charlie]);
        await t.step("removes a module dropped from the manifest", async () => {
          assert.equal((await h.api("PUT", "/v1/deployment", withoutCharlie)).status, 200);
          await waitFor(
            "charlie removed",
            async () => (await inspect(engine, N.charlie)) === undefined,
          );
          const rows = await h.settle(
            (r) => r.get(N.bravo)?.status === "running",
            "bravo running again",
          );
          assert.equal(rows.has(N.charlie), false);
        });

        await t.step("denies a privileged module and still runs the others", async () => {
          const privileged = edit(withoutCharlie, (m) => {
            m[N.delta] = structuredClone(m[N.alpha]);
            m[N.delta].startupOrder = 0;
            m[N.delta].settings.createOptions = JSON.stringify({
              Cmd: ["/bin/module.sh"],
              HostConfig: { Privileged: true },
            });
          });
          assert.equal((await h.api("PUT", "/v1/deployment", privileged)).status, 200);
          const rows = await h.settle(
            (r) =>
              r.get(N.delta)?.status === "failed" && r.get(N.alpha)?.status === "running" &&
              r.get(N.bravo)?.status === "running",
            "delta failed, others running",
          );
          assert.match(
            rows.get(N.delta)!.description,
            /HostConfig\.Privileged.*agent\.allow\.privileged/,
          );
          assert.equal(await inspect(engine, N.delta), undefined);
        });

        await t.step("restarting ledge with the engine running recreates nothing", async () => {
          const before = await inspectAll(engine, ["alpha", "bravo"]);
          unsubscribe();
          await h.restart();
          unsubscribe = h.agent().onReportedChange((reported) => seen.push(reported));
          await h.settle(
            (r) => r.get(N.alpha)?.status === "running" && r.get(N.bravo)?.status === "running",
            "modules running after restart",
          );
          const after = await inspectAll(engine, ["alpha", "bravo"]);
          assert.equal(after.alpha?.Id, before.alpha?.Id);
          assert.equal(after.bravo?.Id, before.bravo?.Id);
          assert.equal(after.alpha?.State.StartedAt, before.alpha?.State.StartedAt);
          assert.equal(after.bravo?.State.StartedAt, before.bravo?.State.StartedAt);
        });

        await t.step(
          "restarting ledge offline re-applies the last accepted deployment",
          async () => {
            const version = h.agent().reported().lastDesiredVersion;
            unsubscribe();
            await h.stop();
            // A reboot: the containers stop, one is even gone; no upstream, no `ledge deploy`.
            await engineCli(engine, ["stop", "-t", "1", N.alpha, N.bravo]);
            await engineCli(engine, ["rm", "-f", N.bravo]);
            await h.restart();
            unsubscribe = h.agent().onReportedChange((reported) => seen.push(reported));
            await h.settle(
              (r) => r.get(N.alpha)?.status === "running" && r.get(N.bravo)?.status === "running",
              "modules running after an offline restart",
            );
            assert.equal(h.agent().reported().lastDesiredVersion, version);
            assert.ok((await inspect(engine, N.bravo))?.Config.Env.includes("COLOR=green"));
          },
        );

        await t.step(
          "never touches containers of another ledge, even with the same names",
          async () => {
            const foreign = `foreign-${engine.name}-${h.instance}`;
            await engineCli(engine, [
              "create",
              "--name",
              foreign,
              "--network",
              "none",
              "--label",
              `${OWNER_LABEL}=${OWNER_VALUE}`,
              "--label",
              `${INSTANCE_LABEL}=someone-else`,
              "--label",
              `dev.ledge.module=${N.alpha}`,
              image,
              "/bin/module.sh",
            ]);
            try {
              const empty = edit(manifest, (m) => {
                for (const name of Object.keys(m)) delete m[name];
              });
              assert.equal((await h.api("PUT", "/v1/deployment", empty)).status, 200);
              await waitFor(
                "all modules removed",
                async () =>
                  (await inspect(engine, N.alpha)) === undefined &&
                  (await inspect(engine, N.bravo)) === undefined,
              );
              await h.settle(() => true, "converged on an empty deployment");
              assert.ok(
                await inspect(engine, foreign),
                "the other ledge's container is still there",
              );
            } finally {
              await engineCli(engine, ["rm", "-f", foreign]);
            }
          },
        );
      } finally {
        unsubscribe();
        await h.dispose();
      }
    },
  );
}
