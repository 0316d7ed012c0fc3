/**
 * The hub's HTTP routes in-process with `app.request()`, over a real hub: the management routes
 * (twins, methods, C2D, queues, stats; mounted in the management app for its error mapping) and
 * the module-to-module methods API, with a module connected through the `mqtt` npm client that
 * answers direct methods. Every route, and its error cases.
 */
import assert from "node:assert/strict";
import { createMethodsApi } from "../hub/methods_api.ts";
import { silentLogger } from "../core/log.ts";
import { createMgmtApp } from "../daemon/mgmt_server.ts";
import { type HubFixture, startHubFixture } from "./_hub_fixture.ts";
import { closeClient, type MqttClient } from "./_hub_mqtt.ts";
import { waitFor } from "./_wait.ts";
import { sasToken } from "./_hub_sas.ts";

/** Connects module `b`, answering `echo` with 200, `missing` with its own 404, never `slow`. */
async function methodResponder(fixture: HubFixture): Promise<MqttClient> {
  const client = await fixture.connectModule("b");
  client.on("message", (topic, payload) => {
    const match = /^\$iothub\/methods\/POST\/([^/]+)\/\?\$rid=(.+)$/.exec(topic);
    if (!match) return;
    const [, method, rid] = match;
    if (method === "slow") return;
    const status = method === "missing" ? 404 : 200;
    const answer = method === "missing"
      ? { message: "no such thing here" }
      : { echoed: JSON.parse(new TextDecoder().decode(payload)) };
    client.publish(`$iothub/methods/res/${status}/?$rid=${rid}`, JSON.stringify(answer));
  });
  await client.subscribeAsync("$iothub/methods/POST/#", { qos: 0 });
  await client.subscribeAsync("$iothub/twin/PATCH/properties/desired/#", { qos: 0 });
  return client;
}

function json(method: string, body: unknown, headers: Record<string, string> = {}) {
  return {
    method,
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  };
}

Deno.test("the hub's management routes answer twins, methods, C2D, queues and stats, and refuse bad input naming the field", async (t) => {
  const fixture = await startHubFixture();
  const clients: MqttClient[] = [];
  try {
    fixture.hub.hub.applyDesired({
      edgeHub: { schemaVersion: "1.1", routes: {} },
      moduleTwins: { b: { threshold: 5 } },
    });
    const app = createMgmtApp([fixture.hub], silentLogger);
    const b = await methodResponder(fixture);
    clients.push(b);
    const patches: { topic: string; body: unknown }[] = [];
    b.on("message", (topic, payload) => {
      if (topic.startsWith("$iothub/twin/PATCH/properties/desired/")) {
        patches.push({ topic, body: JSON.parse(new TextDecoder().decode(payload)) });
      }
    });

    await t.step("GET a module twin gives desired and reported with versions", async () => {
      const response = await app.request("/v1/twins/edge1/modules/b");
      assert.equal(response.status, 200);
      const twin = await response.json();
      assert.equal(twin.desired.threshold, 5);
      assert.equal(typeof twin.desired.$version, "number");
      assert.deepEqual(twin.reported, { $version: twin.reported.$version });
    });

    await t.step("GET a device twin answers for a leaf device", async () => {
      const response = await app.request("/v1/twins/leaf1");
      assert.equal(response.status, 200);
      assert.deepEqual(Object.keys(await response.json()).sort(), ["desired", "reported"]);
    });

    await t.step("PATCH desired bumps the version and pushes the patch to the module", async () => {
      const before = (await (await app.request("/v1/twins/edge1/modules/b")).json()).desired
        .$version;
      const response = await app.request(
        "/v1/twins/edge1/modules/b",
        json("PATCH", { threshold: 7, mode: "fast" }),
      );
      assert.equal(response.status, 200);
      const { desiredVersion } = await response.json();
      assert.equal(desiredVersion, before + 1);
      await waitFor("the desired patch at b", () => patches.length === 1);
      assert.match(patches[0]!.topic, new RegExp(`\\$version=${desiredVersion}$`));
      assert.deepEqual(patches[0]!.body, { threshold: 7, mode: "fast", $version: desiredVersion });
      const twin = await (await app.request("/v1/twins/edge1/modules/b")).json();
      assert.equal(twin.desired.mode, "fast");
      // Device twins take patches too.
      const device = await app.request("/v1/twins/leaf1", json("PATCH", { on: true }));
      assert.equal(device.status, 200);
    });

    await t.step("PATCH refuses malformed JSON, a non-object and an oversize twin", async () => {
      const malformed = await app.request("/v1/twins/edge1/modules/b", json("PATCH", "{"));
      assert.equal(malformed.status, 400);
      assert.match((await malformed.json()).error, /invalid JSON/);
      const list = await app.request("/v1/twins/edge1/modules/b", json("PATCH", [1, 2]));
      assert.equal(list.status, 400);
      const listBody = await list.json();
      assert.match(listBody.detail[0].message, /JSON object of desired properties/);
      const huge = await app.request(
        "/v1/twins/edge1/modules/b",
        json("PATCH", { blob: "x".repeat(40 * 1024) }),
      );
      assert.equal(huge.status, 400);
      assert.match((await huge.json()).error, /32 ?KiB|32768|too large/i);
      assert.equal(patches.length, 1, "refused patches are not pushed");
    });

    await t.step("POST /v1/methods relays the module's answer, its own 404 included", async () => {
      const ok = await app.request(
        "/v1/methods",
        json("POST", { deviceId: "edge1", moduleId: "b", methodName: "echo", payload: { n: 1 } }),
      );
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { status: 200, payload: { echoed: { n: 1 } } });
      const own = await app.request(
        "/v1/methods",
        json("POST", { deviceId: "edge1", moduleId: "b", methodName: "missing" }),
      );
      assert.equal(own.status, 200, "a module's own 404 is its answer, not an HTTP error");
      assert.deepEqual(await own.json(), {
        status: 404,
        payload: { message: "no such thing here" },
      });
    });

    await t.step("POST /v1/methods: 404 for a module that is not connected", async () => {
      const response = await app.request(
        "/v1/methods",
        json("POST", { deviceId: "edge1", moduleId: "nosuch", methodName: "echo" }),
      );
      assert.equal(response.status, 404);
      const body = await response.json();
      assert.match(body.error, /^Cannot invoke echo on edge1\/nosuch: .*not connected/);
      assert.deepEqual(body.detail, { reason: "not-connected" });
    });

    await t.step("POST /v1/methods: 504 when the module does not answer in time", async () => {
      const response = await app.request(
        "/v1/methods",
        json("POST", {
          deviceId: "edge1",
          moduleId: "b",
          methodName: "slow",
          responseTimeoutInSeconds: 1,
        }),
      );
      assert.equal(response.status, 504);
      const body = await response.json();
      assert.match(body.error, /^Cannot invoke slow on edge1\/b: timed out/);
      assert.equal(fixture.hub.hub.stats().methodCallsPending, 0);
    });

    await t.step("POST /v1/methods refuses bad bodies naming the field", async () => {
      const malformed = await app.request("/v1/methods", json("POST", "{nope"));
      assert.equal(malformed.status, 400);
      assert.match((await malformed.json()).error, /invalid JSON/);
      const bad = await app.request(
        "/v1/methods",
        json("POST", { deviceId: 5, methodName: "", responseTimeoutInSeconds: 0 }),
      );
      assert.equal(bad.status, 400);
      const paths = (await bad.json()).detail.map((d: { path: string }) => d.path).sort();
      assert.deepEqual(paths, ["deviceId", "methodName", "responseTimeoutInSeconds"]);
      const extra = await app.request(
        "/v1/methods",
        json("POST", { deviceId: "edge1", methodName: "m", colour: "red" }),
      );
      assert.equal(extra.status, 400);
      assert.match(JSON.stringify(await extra.json()), /colour/);
    });

    await t.step("POST /v1/c2d queues a message that GET /v1/queues shows", async () => {
      const response = await app.request(
        "/v1/c2d/leaf1",
        json("POST", { body: "hello", properties: { kind: "greeting" } }),
      );
      assert.equal(response.status, 202);
      assert.deepEqual(await response.json(), { queued: true });
      const queues = await (await app.request("/v1/queues")).json();
      const queue = queues.find((q: { endpoint: string }) =>
        q.endpoint === "/devices/leaf1/messages/devicebound"
      );
      assert.equal(queue?.count, 1);
      const bad = await app.request("/v1/c2d/leaf1", json("POST", { body: 5, properties: [] }));
      assert.equal(bad.status, 400);
      const paths = (await bad.json()).detail.map((d: { path: string }) => d.path).sort();
      assert.deepEqual(paths, ["body", "properties"]);
      const malformed = await app.request("/v1/c2d/leaf1", json("POST", "]"));
      assert.equal(malformed.status, 400);
    });

    await t.step("GET /v1/hub/stats counts clients and method calls", async () => {
      const response = await app.request("/v1/hub/stats");
      assert.equal(response.status, 200);
      const stats = await response.json();
      assert.equal(stats.connectedClients, 1);
      assert.deepEqual(stats.clients, ["edge1/b"]);
      assert.equal(stats.methodCallsPending, 0);
      assert.ok(Array.isArray(stats.queues));
    });
  } finally {
    for (const client of clients) await closeClient(client);
    await fixture.stop();
  }
});

Deno.test("the module-to-module methods API checks the caller's SAS token and answers 404, 504 and 400 as IoT Edge does", async (t) => {
  const fixture = await startHubFixture();
  const clients: MqttClient[] = [];
  try {
    const manager = fixture.security.manager;
    await manager.provisionModule("a");
    const b = await methodResponder(fixture);
    clients.push(b);
    const app = createMethodsApi(fixture.hub.hub, manager);
    const keyOf = (moduleId: string) => {
      const identity = manager.registry.get("edge1", moduleId);
      assert.ok(identity && identity.auth.type === "sas");
      return identity.auth.primaryKey;
    };
    const tokenA = sasToken({
      host: "hub.example",
      deviceId: "edge1",
      moduleId: "a",
      key: keyOf("a"),
    });
    const asA = { "x-ms-edge-moduleId": "edge1/a", authorization: tokenA };
    const invoke = (path: string, body: unknown, headers: Record<string, string> = asA) =>
      app.request(path, json("POST", body, headers));

    await t.step("a module calls another module's method and gets its answer", async () => {
      const response = await invoke("/twins/edge1/modules/b/methods", {
        methodName: "echo",
        payload: [1, 2],
        responseTimeoutInSeconds: 5,
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: 200, payload: { echoed: [1, 2] } });
      const own = await invoke("/twins/edge1/modules/b/methods", { methodName: "missing" });
      assert.equal(own.status, 200);
      assert.equal((await own.json()).status, 404);
    });

    await t.step(
      "a missing caller header, a bad token or another module's token is 401",
      async () => {
        const none = await invoke("/twins/edge1/modules/b/methods", { methodName: "echo" }, {});
        assert.equal(none.status, 401);
        assert.match((await none.json()).message, /x-ms-edge-moduleId/);
        const forged = await invoke("/twins/edge1/modules/b/methods", { methodName: "echo" }, {
          "x-ms-edge-moduleId": "edge1/a",
          authorization: sasToken({
            host: "hub.example",
            deviceId: "edge1",
            moduleId: "a",
            key: keyOf("b"),
          }),
        });
        assert.equal(forged.status, 401);
        const otherModule = await invoke("/twins/edge1/modules/b/methods", { methodName: "echo" }, {
          "x-ms-edge-moduleId": "edge1/b",
          authorization: tokenA,
        });
        assert.equal(otherModule.status, 401);
      },
    );

    await t.step(
      "a target that is not connected is 404, one that does not answer 504",
      async () => {
        const absent = await invoke("/twins/edge1/modules/c/methods", { methodName: "echo" });
        assert.equal(absent.status, 404);
        assert.match((await absent.json()).message, /^Cannot invoke echo: .*not connected/);
        const device = await invoke("/twins/leaf9/methods", { methodName: "echo" });
        assert.equal(device.status, 404);
        const slow = await invoke("/twins/edge1/modules/b/methods", {
          methodName: "slow",
          responseTimeoutInSeconds: 1,
        });
        assert.equal(slow.status, 504);
        assert.match((await slow.json()).message, /^Cannot invoke slow: timed out/);
      },
    );

    await t.step("bad bodies are 400 naming the field; unknown paths 404", async () => {
      const malformed = await invoke("/twins/edge1/modules/b/methods", "{");
      assert.equal(malformed.status, 400);
      assert.match((await malformed.json()).message, /not JSON/);
      const bad = await invoke("/twins/edge1/modules/b/methods", {
        methodName: 3,
        responseTimeoutInSeconds: "soon",
      });
      assert.equal(bad.status, 400);
      const message = (await bad.json()).message as string;
      assert.match(message, /methodName: /);
      assert.match(message, /responseTimeoutInSeconds: /);
      const unknown = await app.request("/twins/edge1/modules/b/other", json("POST", {}));
      assert.equal(unknown.status, 404);
    });
  } finally {
    for (const client of clients) await closeClient(client);
    await fixture.stop();
  }
});
