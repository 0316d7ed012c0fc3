/**
 * The official Azure IoT SDK for Node over AMQP against a real hub: modules from
 * `ModuleClient.fromEnvironment(Amqp | AmqpWs)` and leaf devices through GatewayHostName, each a
 * real Node process — routes with a WHERE on body and properties, module inputs, twins, direct
 * methods both ways, AMQP ⇄ MQTT across protocols, C2D complete/reject/abandon, and SAS renewal
 * over CBS with a short token lifetime.
 */
import assert from "node:assert/strict";
import { type HubFixture, startHubFixture } from "./_hub_fixture.ts";
import { waitFor } from "./_wait.ts";
import { sdkAvailable, type SdkProcess, startSdkProcess } from "./_sdk_process.ts";
import { serviceTest } from "./_services.ts";

const ROUTES = {
  hot: 'FROM /messages/modules/a/outputs/out1 WHERE $body.v > 10 AND temp = "20" ' +
    'INTO BrokeredEndpoint("/modules/b/inputs/in1")',
  toMqtt:
    'FROM /messages/modules/a/outputs/tomqtt INTO BrokeredEndpoint("/modules/m/inputs/fromamqp")',
  toAmqp:
    'FROM /messages/modules/m/outputs/toamqp INTO BrokeredEndpoint("/modules/a/inputs/frommqtt")',
  leaf: "FROM /messages/* WHERE ($connectionDeviceId = 'leaf1' OR $connectionDeviceId = 'leaf2') " +
    "AND kind = 'leaf' AND $body.from = $connectionDeviceId " +
    'INTO BrokeredEndpoint("/modules/b/inputs/fromleaf")',
};

type Event = Record<string, unknown>;

/** Asks each client to close its SDK client and exit, then waits for it. */
async function closeAll(clients: SdkProcess[]): Promise<void> {
  await Promise.all(clients.map(async (client) => {
    await client.send({ op: "close" }).catch(() => {});
    await client.close();
  }));
}

async function leafDevice(
  fixture: HubFixture,
  deviceId: string,
  transport: string,
  extra: Record<string, string> = {},
): Promise<SdkProcess> {
  const added = await fixture.security.manager.addDevice(deviceId, "sas");
  const key = added.identity.auth.type === "sas" ? added.identity.auth.primaryKey : "";
  // The SDK's Http transport dials HostName (not GatewayHostName): there it names the gateway.
  const host = transport === "Http" ? "localhost" : fixture.config.device.iothub_hostname;
  return startSdkProcess("device_client.cjs", {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    LEDGE_TEST_CONNECTION_STRING:
      `HostName=${host};DeviceId=${deviceId};SharedAccessKey=${key};GatewayHostName=localhost`,
    LEDGE_TEST_CA_FILE: fixture.caFile,
    LEDGE_TEST_TRANSPORT: transport,
    LEDGE_TEST_MQTT_PORT: String(fixture.ports.mqtts),
    LEDGE_TEST_HTTPS_PORT: String(fixture.ports.https),
    LEDGE_TEST_AMQP_PORT: String(fixture.ports.amqps),
    ...extra,
  });
}

serviceTest(
  "the Azure IoT SDK's Amqp and AmqpWs transports run unmodified: modules, routes, twins, methods",
  [await sdkAvailable()],
  async (t) => {
    const fixture = await startHubFixture();
    const clients: SdkProcess[] = [];
    const start = async (moduleId: string, transport: string) => {
      const client = startSdkProcess("module_client.cjs", {
        ...(await fixture.moduleEnv(moduleId)),
        LEDGE_TEST_TRANSPORT: transport,
      });
      clients.push(client);
      return client;
    };
    try {
      fixture.hub.hub.applyDesired({
        edgeHub: { schemaVersion: "1.1", routes: ROUTES },
        moduleTwins: { b: { setting: "initial" } },
      });
      const b = await start("b", "Amqp");
      const a = await start("a", "AmqpWs");
      const m = await start("m", "Mqtt");

      await t.step("fromEnvironment connects over AMQP/TLS and AMQP over WebSocket", async () => {
        const readyB = await b.next((e) => e.event === "ready");
        assert.equal((readyB.desired as Event).setting, "initial");
        await a.next((e) => e.event === "ready");
        await m.next((e) => e.event === "ready");
        assert.deepEqual(fixture.hub.hub.stats().clients.sort(), ["edge1/a", "edge1/b", "edge1/m"]);
      });

      await t.step(
        "sendOutputEvent reaches inputMessage through a WHERE on body and properties",
        async () => {
          const json = { contentType: "application/json", contentEncoding: "utf-8" };
          const sends = [
            { body: '{"v":5}', properties: { temp: "20" } },
            { body: '{"v":50}', properties: { temp: "21" } },
            {
              body: '{"v":20}',
              messageId: "mid-20",
              correlationId: "cid-20",
              properties: { temp: "20", site: "north & south" },
            },
          ];
          for (const [i, send] of sends.entries()) {
            await a.send({ op: "send", id: i, output: "out1", ...json, ...send });
            await a.next((e) => e.event === "sent" && e.id === i);
          }
          const input = await b.next((e) => e.event === "input");
          assert.equal(input.inputName, "in1");
          assert.equal(input.body, '{"v":20}', "the body and the property filters held the others");
          assert.equal(input.messageId, "mid-20");
          assert.equal(input.correlationId, "cid-20");
          assert.equal(input.contentType, "application/json");
          assert.equal(input.contentEncoding, "utf-8");
          assert.deepEqual(input.properties, { temp: "20", site: "north & south" });
          assert.equal(fixture.hub.hub.stats().unrouted, 2);
        },
      );

      await t.step(
        "twin get, reported update and desired patch over the twin link pair",
        async () => {
          await b.send({ op: "report", id: 3, patch: { status: "running", nested: { x: 1 } } });
          await b.next((e) => e.event === "reported" && e.id === 3);
          await b.send({ op: "getTwin", id: 4 });
          const twin = await b.next((e) => e.event === "twin" && e.id === 4);
          assert.equal((twin.reported as Event).status, "running");
          assert.deepEqual((twin.reported as Event).nested, { x: 1 });
          const stored = fixture.hub.hub.getTwin({ deviceId: "edge1", moduleId: "b" });
          assert.equal(stored.reported.status, "running");
          const version = fixture.hub.hub.patchDesired({ deviceId: "edge1", moduleId: "b" }, {
            setting: "changed",
          });
          const desired = await b.next((e) =>
            e.event === "desired" && (e.delta as Event).setting === "changed"
          );
          assert.equal((desired.delta as Event).$version, version);
        },
      );

      await t.step(
        "direct methods both ways: to and from AMQP modules, across protocols",
        async () => {
          // An AmqpWs module calls an Amqp module; the Amqp module calls the MQTT one; and back.
          const calls: [SdkProcess, string, SdkProcess][] = [[a, "b", b], [b, "m", m], [m, "a", a]];
          for (const [i, [caller, target, callee]] of calls.entries()) {
            await caller.send({
              op: "invoke",
              id: 10 + i,
              deviceId: "edge1",
              moduleId: target,
              methodName: "echo",
              payload: { n: i },
            });
            const invoked = await caller.next((e) => e.event === "invoked" && e.id === 10 + i);
            assert.deepEqual(invoked.result, { status: 200, payload: { echoed: { n: i } } });
            const method = await callee.next((e) => e.event === "method");
            assert.deepEqual(method.payload, { n: i });
          }
          const direct = await fixture.hub.hub.invokeMethod({ deviceId: "edge1", moduleId: "b" }, {
            methodName: "echo",
            payload: "hi",
          });
          assert.deepEqual(direct, { status: 200, payload: { echoed: "hi" } });
        },
      );

      await t.step("an AMQP module sends and an MQTT module receives, and back", async () => {
        await a.send({
          op: "send",
          id: 20,
          output: "tomqtt",
          body: "amqp→mqtt",
          properties: { k: "1" },
        });
        await a.next((e) => e.event === "sent" && e.id === 20);
        const atM = await m.next((e) => e.event === "input" && e.inputName === "fromamqp");
        assert.equal(atM.body, "amqp→mqtt");
        assert.equal((atM.properties as Record<string, string>).k, "1");
        assert.equal((atM.properties as Record<string, string>)["$.cmid"], "a");
        await m.send({
          op: "send",
          id: 21,
          output: "toamqp",
          body: "mqtt→amqp",
          properties: { k: "2" },
        });
        await m.next((e) => e.event === "sent" && e.id === 21);
        const atA = await a.next((e) => e.event === "input" && e.inputName === "frommqtt");
        assert.equal(atA.body, "mqtt→amqp");
        assert.equal((atA.properties as Record<string, string>).k, "2");
      });

      for (const [deviceId, transport] of [["leaf1", "Amqp"], ["leaf2", "AmqpWs"]] as const) {
        await t.step(
          `a ${transport} leaf device: routed telemetry, twin, methods, C2D settles`,
          async () => {
            const leaf = await leafDevice(fixture, deviceId, transport, {
              LEDGE_TEST_C2D: "manual",
            });
            clients.push(leaf);
            await leaf.next((e) => e.event === "ready");
            const json = { contentType: "application/json", contentEncoding: "utf-8" };
            // Filtered out: the wrong property, then a body naming another device.
            const sends = [
              { body: JSON.stringify({ from: deviceId }), properties: { kind: "other" } },
              { body: JSON.stringify({ from: "someone" }), properties: { kind: "leaf" } },
              { body: JSON.stringify({ from: deviceId }), properties: { kind: "leaf" } },
            ];
            for (const [i, send] of sends.entries()) {
              await leaf.send({ op: "send", id: 10 + i, ...json, ...send });
              await leaf.next((e) => e.event === "sent" && e.id === 10 + i);
            }
            const input = await b.next((e) => e.event === "input" && e.inputName === "fromleaf");
            assert.equal(input.body, JSON.stringify({ from: deviceId }));
            assert.equal((input.properties as Record<string, string>).kind, "leaf");

            await leaf.send({ op: "report", id: 1, patch: { firmware: "1.2" } });
            await leaf.next((e) => e.event === "reported" && e.id === 1);
            assert.equal(fixture.hub.hub.getTwin({ deviceId }).reported.firmware, "1.2");
            const called = await fixture.hub.hub.invokeMethod({ deviceId }, {
              methodName: "echo",
              payload: { to: deviceId },
            });
            assert.deepEqual(called, { status: 200, payload: { echoed: { to: deviceId } } });

            for (const name of ["complete-me", "reject-me", "abandon-me"]) {
              await fixture.hub.hub.sendC2D(deviceId, {
                body: new TextEncoder().encode(name),
                properties: { name },
              });
            }
            const first = await leaf.next((e) => e.event === "c2d" && e.body === "complete-me");
            assert.equal((first.properties as Record<string, string>).name, "complete-me");
            const rejected = await leaf.next((e) => e.event === "c2d" && e.body === "reject-me");
            const abandoned = await leaf.next((e) => e.event === "c2d" && e.body === "abandon-me");
            await leaf.send({ op: "settle", id: 2, messageId: first.messageId, how: "complete" });
            await leaf.send({ op: "settle", id: 3, messageId: rejected.messageId, how: "reject" });
            await leaf.send({
              op: "settle",
              id: 4,
              messageId: abandoned.messageId,
              how: "abandon",
            });
            for (const id of [2, 3, 4]) {
              await leaf.next((e) => e.event === "settled" && e.id === id);
            }
            const again = await leaf.next((e) => e.event === "c2d" && e.body === "abandon-me");
            assert.equal(again.messageId, abandoned.messageId, "abandon delivers the same message");
            await leaf.send({ op: "settle", id: 5, messageId: again.messageId, how: "complete" });
            await leaf.next((e) => e.event === "settled" && e.id === 5);
            const c2d = leaf.events.filter((e) => e.event === "c2d").map((e) => e.body);
            assert.deepEqual(c2d.sort(), ["abandon-me", "abandon-me", "complete-me", "reject-me"]);
            // The SDK's settle callback comes when the disposition is sent, not when the hub has
            // read it: wait for the hub to remove what complete and reject settled.
            const queue = `/devices/${deviceId}/messages/devicebound`;
            const depth = () =>
              fixture.hub.hub.stats().queues.find((q) => q.endpoint === queue)?.count ?? 0;
            await waitFor("complete and reject to remove the messages", () => depth() === 0, {
              timeoutMs: 10_000,
              describe: () => ({ depth: depth() }),
            });
          },
        );
      }
    } finally {
      await closeAll(clients);
      await fixture.stop();
    }
  },
);

serviceTest(
  "AMQP modules (Amqp and AmqpWs) renew their SAS tokens over CBS and stay connected past the first",
  [await sdkAvailable()],
  async () => {
    const fixture = await startHubFixture();
    const clients: SdkProcess[] = [];
    const transports = [["r", "Amqp"], ["w", "AmqpWs"]] as const;
    try {
      const routes: Record<string, string> = {};
      for (const [id] of transports) {
        routes[id] = `FROM /messages/modules/${id}/outputs/* ` +
          `INTO BrokeredEndpoint("/modules/${id}/inputs/back")`;
      }
      fixture.hub.hub.applyDesired({ edgeHub: { schemaVersion: "1.1", routes }, moduleTwins: {} });
      // Renewed every 3 s (the SDK renews half-way), so a slow turn on a busy machine is no expiry.
      const lifetimeSeconds = 6;
      for (const [id, transport] of transports) {
        clients.push(startSdkProcess("module_client.cjs", {
          ...(await fixture.moduleEnv(id)),
          LEDGE_TEST_TRANSPORT: transport,
          LEDGE_TEST_TOKEN_SECONDS: String(lifetimeSeconds),
          LEDGE_TEST_CA_FILE: fixture.caFile,
        }));
      }
      for (const module of clients) await module.next((e) => e.event === "ready");
      const renewals = () => fixture.hub.hub.stats().heads.amqp?.tokenRenewals ?? 0;
      // Three renewals each: the first token and the next ones have expired meanwhile.
      await waitFor(
        "three put-token renewals per module",
        () => renewals() >= 3 * clients.length,
        lifetimeSeconds * 5 * 1000,
      );
      for (const [i, module] of clients.entries()) {
        await module.send({ op: "send", id: 1, output: "o", body: `still here ${i}` });
        await module.next((e) => e.event === "sent" && e.id === 1);
        const input = await module.next((e) => e.event === "input");
        assert.equal(input.body, `still here ${i}`);
        assert.equal(
          module.events.filter((e) => e.event === "disconnect").length,
          0,
          `${transports[i]![1]}: renewal happened on the open connection`,
        );
      }
      assert.equal(fixture.hub.hub.stats().heads.amqp?.tokenExpiries, 0);
    } finally {
      await closeAll(clients);
      await fixture.stop();
    }
  },
);
