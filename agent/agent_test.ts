import assert from "node:assert/strict";
import { parseConfigText } from "../core/config_load.ts";
import { silentLogger } from "../core/log.ts";
import { Hono } from "hono";
import { answerErrorsAsJson } from "../core/api.ts";
import type { Deployment } from "./deployment.ts";
import { createAgentComponent } from "./mod.ts";
import type { ModuleProvisioner } from "./provisioner.ts";
import type { EdgeAgentReported } from "./reported.ts";
import { waitFor } from "../tests/_wait.ts";

/** A provisioner that hands out directories and generation ids, and remembers removals. */
function fakeProvisioner(root: string) {
  const removed: string[] = [];
  let generation = 0;
  const provisioner: ModuleProvisioner = {
    async provisionModule(moduleId) {
      const socketDir = `${root}/mnt/${moduleId}`;
      await Deno.mkdir(socketDir, { recursive: true });
      return { generationId: `gen-${++generation}`, socketDir };
    },
    removeModule(moduleId) {
      removed.push(moduleId);
      return Promise.resolve();
    },
  };
  return { provisioner, removed };
}

function processManifest(modules: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    modulesContent: {
      $edgeAgent: {
        "properties.desired": {
          schemaVersion: "1.1",
          runtime: {
            type: "docker",
            settings: {
              registryCredentials: {
                r: { username: "u", password: "top-secret", address: "r.io" },
              },
            },
          },
          systemModules: {},
          modules: Object.fromEntries(
            Object.entries(modules).map(([name, script]) => [name, {
              type: "process",
              restartPolicy: "never",
              settings: { command: "/bin/sh", args: ["-c", script] },
            }]),
          ),
        },
      },
      $edgeHub: {
        "properties.desired": {
          schemaVersion: "1.2",
          routes: { r1: "FROM /messages/* INTO $upstream" },
        },
      },
      ...extra,
    },
  };
}

async function withAgent(
  fn: (tools: {
    request: (method: string, path: string, body?: unknown) => Promise<Response>;
    component: ReturnType<typeof createAgentComponent>;
    stateDir: string;
    removed: string[];
  }) => Promise<void>,
) {
  const stateDir = await Deno.makeTempDir();
  const config = parseConfigText(`[state]\ndir = "${stateDir}"\n[agent]\nengine = "none"`, {
    uid: 1000,
    hostname: "test",
    env: {},
  });
  const { provisioner, removed } = fakeProvisioner(stateDir);
  const component = createAgentComponent({ config, stateDir, logger: silentLogger }, {
    provisioner,
  });
  await component.start(new AbortController().signal);
  const app = answerErrorsAsJson(new Hono().route("/", component.api!), silentLogger);
  const request = (method: string, path: string, body?: unknown) =>
    Promise.resolve(
      app.request(path, {
        method,
        ...(body === undefined
          ? {}
          : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      }),
    );
  try {
    await fn({ request, component, stateDir, removed });
  } finally {
    await component.stop();
    await Deno.remove(stateDir, { recursive: true });
  }
}

Deno.test("PUT /v1/deployment rejects bad input with its status and JSON path, changing nothing", async () => {
  await withAgent(async ({ request, component }) => {
    const accepted: Deployment[] = [];
    component.agent.onDeploymentAccepted((d) => accepted.push(d));
    assert.equal(
      (await request("PUT", "/v1/deployment", processManifest({ a: "sleep 30" }))).status,
      200,
    );

    const cases: [unknown, number, RegExp][] = [
      ["{not json", 400, /invalid JSON/],
      ["", 417, /empty configuration/],
      [
        { modulesContent: { $edgeAgent: { "properties.desired": { schemaVersion: "2.0" } } } },
        412,
        /schemaVersion: unsupported schema version "2.0"/,
      ],
      [
        processManifest({ a: "sleep 30" }, { x: { "properties.desired": 5 } }),
        400,
        /modulesContent\.x\["properties\.desired"\]: expected an object/,
      ],
    ];
    for (const [body, status, message] of cases) {
      const response = await request("PUT", "/v1/deployment", body);
      assert.equal(response.status, status);
      const json = await response.json();
      assert.match(json.error, message);
      if (status !== 400 || typeof body !== "string") {
        const reported = component.agent.reported();
        assert.equal(reported.lastDesiredStatus.code, status);
        assert.match(reported.lastDesiredStatus.description, message);
      }
    }
    assert.equal(accepted.length, 1);
    assert.deepEqual(component.agent.current()?.modules.map((m) => m.name), ["a"]);
    const status = await (await request("GET", "/v1/deployment")).json();
    assert.equal(status.version, 1);
    assert.deepEqual(status.modules, ["a"]);
  });
});

Deno.test("the agent persists what it accepted, 0600, and hands $edgeHub to listeners", async () => {
  await withAgent(async ({ request, component, stateDir }) => {
    const accepted: Deployment[] = [];
    component.agent.onDeploymentAccepted((d) => accepted.push(d));
    const twin = { mod: { "properties.desired": { interval: 5 } } };
    const response = await request(
      "PUT",
      "/v1/deployment",
      processManifest({ mod: "sleep 30" }, twin),
    );
    assert.deepEqual(await response.json(), { version: 1, modules: ["mod"], denied: {} });
    assert.deepEqual(accepted[0]?.edgeHub?.routes, { r1: "FROM /messages/* INTO $upstream" });
    assert.deepEqual(accepted[0]?.moduleTwins, { mod: { interval: 5 } });
    const file = await Deno.stat(`${stateDir}/agent/deployment.json`);
    assert.equal(file.mode! & 0o777, 0o600);
    const saved = JSON.parse(await Deno.readTextFile(`${stateDir}/agent/deployment.json`));
    assert.equal(saved.version, 1);
    assert.ok(saved.manifest.$edgeAgent);
  });
});

Deno.test("a new deployment supersedes one being applied", async () => {
  await withAgent(async ({ request, component, removed }) => {
    await request(
      "PUT",
      "/v1/deployment",
      processManifest({ first: "sleep 30", shared: "sleep 30" }),
    );
    // No waiting: the second arrives while the first is being applied.
    await request(
      "PUT",
      "/v1/deployment",
      processManifest({ second: "sleep 30", shared: "sleep 31" }),
    );
    await waitFor("the second deployment running", async () => {
      const { modules } = await (await request("GET", "/v1/modules")).json();
      const mine = modules.filter((m: { system: boolean }) => !m.system);
      return mine.length === 2 && mine.every((m: { status: string }) => m.status === "running");
    });
    const rows = (await (await request("GET", "/v1/modules")).json()).modules;
    assert.deepEqual(
      rows.filter((m: { system: boolean }) => !m.system).map((
        m: { name: string; config: string },
      ) => `${m.name} ${m.config}`),
      [
        "second /bin/sh -c sleep 30",
        "shared /bin/sh -c sleep 31",
      ],
    );
    await waitFor("version 2 reported", () => component.agent.reported().lastDesiredVersion === 2);
    assert.ok(!("first" in component.agent.reported().modules));
    // Dropping a module that ran also deletes its identity.
    await request("PUT", "/v1/deployment", processManifest({ second: "sleep 30" }));
    await waitFor("shared's identity removed", () => removed.includes("shared"));
  });
});

Deno.test("reported properties follow IoT Edge's shape and keep secrets out", async () => {
  await withAgent(async ({ request, component }) => {
    const seen: EdgeAgentReported[] = [];
    component.agent.onReportedChange((r) => seen.push(r));
    await request("PUT", "/v1/deployment", processManifest({ done: "echo hi; exit 4" }));
    await waitFor(
      "the module failed",
      () => component.agent.reported().modules.done?.runtimeStatus === "failed",
    );
    const reported = component.agent.reported();
    assert.equal(reported.schemaVersion, "1.0");
    assert.equal(reported.lastDesiredVersion, 1);
    assert.deepEqual(reported.lastDesiredStatus, { code: 200, description: "" });
    assert.deepEqual(Object.keys(reported.systemModules).sort(), ["edgeAgent", "edgeHub"]);
    assert.equal(reported.systemModules.edgeHub?.runtimeStatus, "running");
    const done = reported.modules.done!;
    assert.equal(done.exitCode, 4);
    assert.equal(done.statusDescription, "exited with code 4");
    assert.equal(done.restartPolicy, "never");
    assert.notEqual(done.lastStartTimeUtc, "0001-01-01T00:00:00Z");
    assert.notEqual(done.lastExitTimeUtc, "0001-01-01T00:00:00Z");
    assert.equal(done.restartCount, 0);
    assert.ok(!JSON.stringify(reported).includes("top-secret"));
    await waitFor(
      "a change notification",
      () => seen.some((r) => r.modules.done?.runtimeStatus === "failed"),
    );
    const logs = await request("GET", "/v1/modules/done/logs");
    assert.equal(await logs.text(), "hi\n");
  });
});

Deno.test("module routes answer 404 for unknown modules and 400 for bad queries", async () => {
  await withAgent(async ({ request }) => {
    await request("PUT", "/v1/deployment", processManifest({ a: "sleep 30" }));
    for (const path of ["/v1/modules/nope", "/v1/modules/nope/logs"]) {
      const response = await request("GET", path);
      assert.equal(response.status, 404);
      assert.match((await response.json()).error, /Cannot find module "nope"/);
    }
    const restart = await request("POST", "/v1/modules/nope/restart");
    assert.equal(restart.status, 404);
    const bad = await request("GET", "/v1/modules/a/logs?tail=ten");
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).detail[0].path, "tail");
    const since = await request("GET", "/v1/modules/a/logs?since=whenever");
    assert.equal(since.status, 400);
  });
});

Deno.test("a deployment from the parent may not run process modules unless the device allows it", async () => {
  await withAgent(async ({ component }) => {
    await component.agent.deploy(processManifest({ a: "sleep 30" }));
    await assert.rejects(
      component.agent.deploy(processManifest({ b: "sleep 30" }), { source: "upstream" }),
      /modules\.b\.type: a "process" module from the parent is denied by the device policy \(agent\.allow\.process_modules_from_upstream\)/,
    );
    assert.equal(component.agent.reported().lastDesiredStatus.code, 400);
    assert.deepEqual(component.agent.current()?.modules.map((m) => m.name), ["a"]);
    // The same manifest deployed locally is accepted.
    await component.agent.deploy(processManifest({ b: "sleep 30" }));
    assert.deepEqual(component.agent.current()?.modules.map((m) => m.name), ["b"]);
  });
});
