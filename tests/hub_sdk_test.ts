/**
 * The official Azure IoT SDK for Node against a real hub: modules started with the env the agent
 * injects (fromEnvironment over MQTT/TLS and over MqttWs), routes with a WHERE clause, twins,
 * direct methods between modules, and a leaf device through GatewayHostName with C2D.
 */
import assert from "node:assert/strict";
import { startHubFixture } from "./_hub_fixture.ts";
import { sdkAvailable, startSdkProcess } from "./_sdk_process.ts";
import { serviceTest } from "./_services.ts";

const ROUTES = {
  hot: {
    route:
      'FROM /messages/modules/a/outputs/out1 WHERE as_number(temp) > 10 INTO BrokeredEndpoint("/modules/b/inputs/in1")',
    priority: 1,
  },
  leaf:
    `FROM /messages/* WHERE $connectionDeviceId = 'leaf1' INTO BrokeredEndpoint("/modules/b/inputs/fromleaf")`,
};

serviceTest(
  "the Azure IoT SDK runs unmodified against the hub: routes, twins, methods, leaf devices and C2D",
  [await sdkAvailable()],
  async (t) => {
    const fixture = await startHubFixture();
    const clients: { close(): Promise<void> }[] = [];
    try {
      fixture.hub.hub.applyDesired({
        edgeHub: { schemaVersion: "1.1", routes: ROUTES },
        moduleTwins: { b: { setting: "initial" } },
      });
      const b = startSdkProcess("module_client.cjs", await fixture.moduleEnv("b"));
      clients.push(b);
      const a = startSdkProcess("module_client.cjs", {
        ...(await fixture.moduleEnv("a")),
        LEDGE_TEST_TRANSPORT: "MqttWs",
      });
      clients.push(a);

      await t.step("fromEnvironment connects over MQTT/TLS and over MqttWs", async () => {
        const readyB = await b.next((e) => e.event === "ready");
        assert.equal((readyB.desired as Record<string, unknown>).setting, "initial");
        await a.next((e) => e.event === "ready");
        assert.deepEqual(fixture.hub.hub.stats().clients.sort(), ["edge1/a", "edge1/b"]);
      });

      await t.step("sendOutputEvent reaches inputMessage through a route with WHERE", async () => {
        await a.send({
          op: "send",
          id: 1,
          output: "out1",
          body: "cold",
          properties: { temp: "5" },
        });
        await a.next((e) => e.event === "sent" && e.id === 1);
        await a.send({
          op: "send",
          id: 2,
          output: "out1",
          body: '{"v":20}',
          messageId: "mid-20",
          correlationId: "cid-20",
          contentType: "application/json",
          contentEncoding: "utf-8",
          properties: { temp: "20", site: "north & south" },
        });
        await a.next((e) => e.event === "sent" && e.id === 2);
        const input = await b.next((e) => e.event === "input");
        assert.equal(input.inputName, "in1");
        assert.equal(input.body, '{"v":20}', "the cold message must have been filtered out");
        assert.equal(input.messageId, "mid-20");
        assert.equal(input.correlationId, "cid-20");
        assert.equal(input.contentType, "application/json");
        assert.equal(input.contentEncoding, "utf-8");
        const properties = input.properties as Record<string, string>;
        assert.equal(properties.temp, "20");
        assert.equal(properties.site, "north & south");
        assert.equal(properties["$.cdid"], "edge1");
        assert.equal(properties["$.cmid"], "a");
        assert.equal(fixture.hub.hub.stats().unrouted, 1);
      });

      await t.step("twin get, reported update and desired patch", async () => {
        await b.send({ op: "report", id: 3, patch: { status: "running", nested: { x: 1 } } });
        await b.next((e) => e.event === "reported" && e.id === 3);
        await b.send({ op: "getTwin", id: 4 });
        const twin = await b.next((e) => e.event === "twin" && e.id === 4);
        const reported = twin.reported as Record<string, unknown>;
        assert.equal(reported.status, "running");
        assert.deepEqual(reported.nested, { x: 1 });
        assert.equal(
          fixture.hub.hub.getTwin({ deviceId: "edge1", moduleId: "b" }).reported.status,
          "running",
        );
        const version = fixture.hub.hub.patchDesired({ deviceId: "edge1", moduleId: "b" }, {
          setting: "changed",
        });
        const desired = await b.next((e) =>
          e.event === "desired" &&
          (e.delta as Record<string, unknown>).setting === "changed"
        );
        assert.equal((desired.delta as Record<string, unknown>).$version, version);
      });

      await t.step("onMethod answers invokeMethod from another module", async () => {
        await a.send({
          op: "invoke",
          id: 5,
          deviceId: "edge1",
          moduleId: "b",
          methodName: "echo",
          payload: { n: 42 },
        });
        const invoked = await a.next((e) => e.event === "invoked" && e.id === 5);
        assert.deepEqual(invoked.result, { status: 200, payload: { echoed: { n: 42 } } });
        const method = await b.next((e) => e.event === "method");
        assert.deepEqual(method.payload, { n: 42 });
        await a.send({
          op: "invoke",
          id: 6,
          deviceId: "edge1",
          moduleId: "nobody",
          methodName: "echo",
          payload: null,
        });
        const failed = await a.next((e) => e.event === "failed" && e.id === 6);
        assert.match(String(failed.message), /not connected|404|Not ?Found/i);
        const direct = await fixture.hub.hub.invokeMethod({ deviceId: "edge1", moduleId: "b" }, {
          methodName: "echo",
          payload: "hi",
        });
        assert.deepEqual(direct, { status: 200, payload: { echoed: "hi" } });
      });

      await t.step(
        "a leaf device through GatewayHostName sends routed telemetry and gets C2D",
        async () => {
          const added = await fixture.security.manager.addDevice("leaf1", "sas");
          assert.equal(added.identity.auth.type, "sas");
          const key = added.identity.auth.type === "sas" ? added.identity.auth.primaryKey : "";
          const leaf = startSdkProcess("device_client.cjs", {
            PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
            LEDGE_TEST_CONNECTION_STRING:
              `HostName=hub.example;DeviceId=leaf1;SharedAccessKey=${key};GatewayHostName=localhost`,
            LEDGE_TEST_CA_FILE: fixture.caFile,
            LEDGE_TEST_MQTT_PORT: String(fixture.ports.mqtts),
            LEDGE_TEST_HTTPS_PORT: String(fixture.ports.https),
          });
          clients.push(leaf);
          await leaf.next((e) => e.event === "ready");
          await leaf.send({
            op: "send",
            id: 7,
            body: "from the leaf",
            properties: { kind: "leaf" },
          });
          await leaf.next((e) => e.event === "sent" && e.id === 7);
          const input = await b.next((e) => e.event === "input" && e.inputName === "fromleaf");
          assert.equal(input.body, "from the leaf");
          assert.equal((input.properties as Record<string, string>)["$.cdid"], "leaf1");
          await fixture.hub.hub.sendC2D("leaf1", {
            body: new TextEncoder().encode("hello leaf"),
            properties: { k: "v" },
          });
          const c2d = await leaf.next((e) => e.event === "c2d");
          assert.equal(c2d.body, "hello leaf");
          assert.equal((c2d.properties as Record<string, string>).k, "v");
        },
      );
    } finally {
      for (const client of clients) await client.close();
      await fixture.stop();
    }
  },
);
