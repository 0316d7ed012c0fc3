/**
 * The agent with no container engine: process modules go through the same lifecycle as
 * containers (startupOrder, env change, back-off after an outside kill, stop, remove, offline
 * restart), and reach their workload socket on the host.
 */
import assert from "node:assert/strict";
import { type AgentHarness, startAgentHarness } from "./_agent_harness.ts";
import { waitFor } from "./_wait.ts";
import { commandAvailable, serviceTest } from "./_services.ts";

// deno-lint-ignore no-explicit-any
type Manifest = any;

async function baseManifest(pidDir: string): Promise<Manifest> {
  const manifest = JSON.parse(
    await Deno.readTextFile(new URL("../examples/manifests/process_modules.json", import.meta.url)),
  );
  for (const module of Object.values(modulesOf(manifest)) as Manifest[]) {
    module.env.PIDDIR.value = pidDir;
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

async function pidOf(dir: string, name: string): Promise<number | undefined> {
  try {
    return Number((await Deno.readTextFile(`${dir}/${name}.pid`)).trim());
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until `module`'s log holds a line matching `pattern`. A module writes its line before its
 * pid file, but the agent reads the module's output on its own schedule: seeing the pid does not
 * mean the line was read yet (under load it was not, and the test failed).
 */
async function logLine(
  h: AgentHarness,
  module: string,
  pattern: RegExp,
): Promise<void> {
  let logs = "";
  await waitFor(`${pattern} in the log of ${module}`, async () => {
    logs = (await h.api<string>("GET", `/v1/modules/${module}/logs`)).body;
    return pattern.test(logs);
  }, { timeoutMs: 10_000, describe: () => logs });
}

Deno.test("agent runs process modules through the whole lifecycle without an engine", async (t) => {
  const pidDir = await Deno.makeTempDir();
  const manifest = await baseManifest(pidDir);
  const h = await startAgentHarness();
  const names = ["pa", "pb", "pc"];
  const pids = async () =>
    Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, await pidOf(pidDir, n)] as const)),
    );
  try {
    await t.step("starts three modules in startupOrder", async () => {
      assert.equal((await h.api("PUT", "/v1/deployment", manifest)).status, 200);
      const rows = await h.settle(
        (r) => names.every((n) => r.get(n)?.status === "running"),
        "three process modules running",
      );
      assert.equal(rows.get("pa")?.config.startsWith("/bin/sh -c"), true);
      const reported = h.agent().reported();
      const started = names.map((n) => Date.parse(reported.modules[n]!.lastStartTimeUtc));
      assert.ok(started[0]! < started[1]! && started[1]! < started[2]!, `start order ${started}`);
      await waitFor("pid files", async () => Object.values(await pids()).every(alive));
      await logLine(h, "pa", /module pa started with COLOR=red/);
    });

    const orange = edit(manifest, (m) => (m.pa.env.COLOR.value = "orange"));
    await t.step("recreates only the module whose env changed", async () => {
      const before = await pids();
      assert.equal((await h.api("PUT", "/v1/deployment", orange)).status, 200);
      await waitFor(
        "pa restarted",
        async () => (await pidOf(pidDir, "pa")) !== before.pa && alive(await pidOf(pidDir, "pa")),
      );
      await h.settle((r) => r.get("pa")?.status === "running", "pa running");
      const after = await pids();
      assert.equal(after.pb, before.pb);
      assert.equal(after.pc, before.pc);
      assert.ok(alive(after.pb) && alive(after.pc));
      await logLine(h, "pa", /module pa started with COLOR=orange/);
    });

    await t.step("restarts a process killed from outside after its back-off", async () => {
      const pid = (await pidOf(pidDir, "pb"))!;
      Deno.kill(pid, "SIGKILL");
      await waitFor(
        "pb restarted",
        async () => alive(await pidOf(pidDir, "pb")) && (await pidOf(pidDir, "pb")) !== pid,
      );
      const rows = await h.settle((r) => r.get("pb")?.status === "running", "pb running");
      assert.equal(rows.get("pb")?.restartCount, 1);
      const module = h.agent().reported().modules.pb!;
      assert.equal(module.restartCount, 1);
      const waited = Date.parse(module.lastStartTimeUtc) - Date.parse(module.lastExitTimeUtc);
      assert.ok(waited >= 950, `restarted ${waited} ms after the exit, before the 1 s back-off`);
    });

    await t.step("stops a module desired stopped and removes a dropped one", async () => {
      const before = await pids();
      const next = edit(orange, (m) => {
        m.pb.status = "stopped";
        delete m.pc;
      });
      assert.equal((await h.api("PUT", "/v1/deployment", next)).status, 200);
      const rows = await h.settle(
        (r) => r.get("pb")?.status === "stopped" && !r.has("pc"),
        "pb stopped, pc gone",
      );
      assert.equal(rows.get("pa")?.status, "running");
      assert.equal(alive(before.pb), false);
      assert.equal(alive(before.pc), false);
      assert.equal(await pidOf(pidDir, "pa"), before.pa);
      assert.equal((await h.api("GET", "/v1/modules/pc")).status, 404);
    });

    await t.step("after an offline restart the last deployment runs again", async () => {
      const before = await pids();
      await h.restart();
      await h.settle(
        (r) => r.get("pa")?.status === "running" && r.get("pb")?.status === "stopped",
        "re-applied",
      );
      assert.equal(alive(before.pa), false, "the old process stopped with ledge");
      await waitFor(
        "pa runs again",
        async () => alive(await pidOf(pidDir, "pa")) && (await pidOf(pidDir, "pa")) !== before.pa,
      );
    });
  } finally {
    await h.dispose();
    await Deno.remove(pidDir, { recursive: true });
  }
});

serviceTest("a process module reaches its workload socket on the host", [
  await commandAvailable("node"),
], async () => {
  const h = await startAgentHarness();
  try {
    const node = new TextDecoder().decode(
      (await new Deno.Command("sh", { args: ["-c", "command -v node"], stdout: "piped" }).output())
        .stdout,
    ).trim();
    const probe = `
      const http = require("node:http");
      const socketPath = new URL(process.env.IOTEDGE_WORKLOADURI).pathname;
      http.get({ socketPath, path: "/trust-bundle?api-version=" + process.env.IOTEDGE_APIVERSION }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => console.log("PROBE " + res.statusCode + " " + socketPath + " " + JSON.parse(body).certificate.split("\\n")[0]));
      }).on("error", (e) => console.log("PROBE error " + e.message));`;
    const manifest = {
      modulesContent: {
        $edgeAgent: {
          "properties.desired": {
            schemaVersion: "1.1",
            modules: {
              wlproc: {
                type: "process",
                restartPolicy: "never",
                settings: { command: node, args: ["-e", probe] },
              },
            },
          },
        },
      },
    };
    assert.equal((await h.api("PUT", "/v1/deployment", manifest)).status, 200);
    let logs = "";
    await waitFor("the probe's output", async () => {
      const answer = await h.api<string>("GET", "/v1/modules/wlproc/logs");
      logs = answer.status === 200 ? answer.body : "";
      return logs.includes("PROBE ");
    }, { timeoutMs: 30_000, describe: () => logs });
    assert.equal(
      logs.trim(),
      `PROBE 200 ${h.stateDir}/mnt/wlproc/workload.sock -----BEGIN CERTIFICATE-----`,
    );
  } finally {
    await h.dispose();
  }
});
