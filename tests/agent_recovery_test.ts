/**
 * The agent counts every recovery, on real Podman and real Docker behind a real `ledge run`:
 * two modules deployed onto a network that does not exist yet both start at their first attempt
 * (the network is created once, before them), and a container removed behind ledge's back
 * (`<engine> rm -f`) is recreated and counted as a crash: in `ledge list`, in `$edgeAgent`'s
 * reported properties and in the metrics.
 */
import assert from "node:assert/strict";
import { MODULE_SH } from "./_agent_harness.ts";
import { engineCli, ENGINES, removeContainersLabelled, testImage } from "./_engines.ts";
import { deployWith } from "./_fleet.ts";
import { waitFor } from "./_wait.ts";
import { type LedgeProcess, startLedge } from "./_ledge.ts";
import { deploymentManifest } from "./_manifests.ts";
import { serviceTest } from "./_services.ts";
import { INSTANCE_LABEL, ledgeInstanceId } from "../agent/engine/labels.ts";

interface Row {
  name: string;
  status: string;
  description: string;
  restartCount: number;
}

async function rows(ledge: LedgeProcess): Promise<Map<string, Row>> {
  const listed = await ledge.cli(["list", "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  return new Map((JSON.parse(listed.stdout) as Row[]).map((row) => [row.name, row]));
}

async function reportedRestarts(ledge: LedgeProcess, module: string): Promise<number> {
  const twin = await ledge.cli(["twin", "$edgeAgent"]);
  assert.equal(twin.code, 0, twin.stderr);
  const reported = JSON.parse(twin.stdout).reported;
  return reported.modules[module].restartCount;
}

async function metricRestarts(ledge: LedgeProcess, module: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ledge.ports.metrics}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    l.startsWith(`edgeagent_module_restarts{module_name="${module}"}`)
  );
  assert.ok(line, `no restart metric for ${module}:\n${text}`);
  return Number(line.split(" ").at(-1));
}

function containerModule(image: string): Record<string, unknown> & { settings: never } {
  return {
    version: "1.0",
    type: "docker",
    status: "running",
    restartPolicy: "always",
    imagePullPolicy: "never",
    settings: { image, createOptions: { Cmd: ["/bin/module.sh"] } } as never,
  };
}

for (const engine of ENGINES) {
  serviceTest(
    `the agent on ${engine.name} creates a new network once and counts a container removed behind its back`,
    [engine.requirement],
    async (t) => {
      const image = await testImage(engine, {
        name: "agent-module",
        files: { "/bin/module.sh": MODULE_SH },
      });
      // Container names are the engine's, shared with every other test using it: unique ones.
      const suffix = crypto.randomUUID().slice(0, 8);
      const [alpha, bravo] = [`alpha${suffix}`, `bravo${suffix}`];
      const network = `ledge-net-${suffix}`;
      const dir = await Deno.makeTempDir({ prefix: "ledge-recovery-" });
      const ledge = await startLedge({
        extraConfig: `[agent]\nengine = "docker"\nengine_socket = "${engine.socketPath}"\n` +
          `network = "${network}"\nbackoff_base_seconds = 1\nbackoff_max_seconds = 4`,
      });
      try {
        await t.step("two modules on a new network both start at their first attempt", async () => {
          const manifest = deploymentManifest({
            [alpha]: containerModule(image),
            [bravo]: containerModule(image),
          });
          const deployed = await deployWith(ledge, manifest, { dir });
          assert.equal(deployed.code, 0, deployed.stderr);
          const running = await waitFor("both modules running", async () => {
            const found = await rows(ledge);
            const both = [alpha, bravo].every((n) => found.get(n)?.status === "running");
            return both ? found : undefined;
          });
          const failures = ledge.logs.filter((line) => /failed|backoff|already exists/.test(line));
          assert.equal(running.get(alpha)?.restartCount, 0, failures.join("\n"));
          assert.equal(running.get(bravo)?.restartCount, 0, failures.join("\n"));
          assert.deepEqual(failures, [], "no failed attempt, no back-off");
          const networks = await engineCli(engine, ["network", "ls", "--format", "{{.Name}}"]);
          assert.equal(networks.split("\n").filter((n) => n === network).length, 1);
        });

        await t.step(`${engine.name} rm -f counts as a restart, reported everywhere`, async () => {
          const before = JSON.parse(await engineCli(engine, ["inspect", alpha]))[0].Id;
          const removedAt = performance.now();
          await engineCli(engine, ["rm", "-f", alpha]);
          await ledge.waitForLog(new RegExp(`${alpha}: its instance was removed outside ledge`));
          const back = await waitFor(`${alpha} recreated and running`, async () => {
            const found = await rows(ledge);
            return found.get(alpha)?.status === "running" && found.get(alpha)!.restartCount > 0
              ? found
              : undefined;
          });
          console.log(
            `${engine.name}: the module running again ${
              Math.round(performance.now() - removedAt)
            } ms after rm -f`,
          );
          assert.equal(back.get(alpha)?.restartCount, 1);
          assert.equal(back.get(bravo)?.restartCount, 0);
          const after = JSON.parse(await engineCli(engine, ["inspect", alpha]))[0].Id;
          assert.notEqual(after, before, "a new container");
          assert.equal(
            await waitFor("the reported restart count", async () => {
              const count = await reportedRestarts(ledge, alpha);
              return count === 1 ? count : undefined;
            }),
            1,
          );
          assert.equal(await metricRestarts(ledge, alpha), 1);
          assert.equal(await metricRestarts(ledge, bravo), 0);
        });
      } finally {
        await ledge.stop();
        await removeContainersLabelled(
          engine,
          `${INSTANCE_LABEL}=${ledgeInstanceId(ledge.stateDir)}`,
        );
        await engineCli(engine, ["network", "rm", network]).catch(() => {});
        await Deno.remove(dir, { recursive: true });
        await Deno.remove(ledge.stateDir, { recursive: true });
        await Deno.remove(ledge.configPath);
      }
    },
  );
}
