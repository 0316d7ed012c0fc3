/**
 * The upstream connector against a real ledge hub as the parent (security manager and hub
 * in-process, on loopback): the child is a device registered on the parent with a SAS key. Its
 * telemetry is routed by the parent's routes with the properties intact; a desired patch, a
 * direct method and a C2D message from the parent come down; reported properties go up.
 *
 * Module identities of the child need the parent to derive their keys (phase 2), so the child
 * here forwards its own device telemetry and holds no module connections.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import type { IdentityRef } from "../iothub/mod.ts";
import { UPSTREAM_ENDPOINT } from "../upstream/mod.ts";
import type { TwinPatch } from "../upstream/mod.ts";
import { createSasToken } from "../iothub/mod.ts";
import { startHubFixture } from "./_hub_fixture.ts";
import { upstreamChild } from "./_upstream_parent.ts";
import { waitFor } from "./_wait.ts";

const encoder = new TextEncoder();

// mqtts runs on ledge's own MQTT client, wss on mqtt.js: both must carry everything.
for (const protocol of ["mqtts", "wss"] as const) {
  Deno.test(
    `a ledge parent receives the child's telemetry and drives its twin, methods and C2D (${protocol})`,
    () => parentRoundTrip(protocol),
  );
}

async function parentRoundTrip(protocol: "mqtts" | "wss"): Promise<void> {
  const parent = await startHubFixture();
  const dir = await Deno.makeTempDir({ prefix: "ledge-upstream-child-" });
  const added = await parent.security.manager.addDevice("child", "sas");
  assert.equal(added.identity.auth.type, "sas");
  const childKey = added.identity.auth.type === "sas" ? added.identity.auth.primaryKey : "";
  parent.hub.hub.applyDesired({
    edgeHub: {
      schemaVersion: "1.1",
      routes: { fromChild: 'FROM /messages/* INTO BrokeredEndpoint("/modules/sink/inputs/in")' },
    },
    moduleTwins: {},
  });
  // A module on the parent that reads what its routes deliver.
  await parent.security.manager.provisionModule("sink");
  const sinkIdentity = parent.security.manager.registry.get("edge1", "sink")!;
  const sinkKey = sinkIdentity.auth.type === "sas" ? sinkIdentity.auth.primaryKey : "";
  const sink = await mqtt.connectAsync(`mqtt://127.0.0.1:${parent.ports.plain}`, {
    clientId: "edge1/sink",
    username: "localhost/edge1/sink/?api-version=2021-04-12",
    password: createSasToken({ host: "localhost", deviceId: "edge1", moduleId: "sink" }, {
      keyBase64: sinkKey,
      expiry: Math.floor(Date.now() / 1000) + 3600,
    }),
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const delivered: { topic: string; body: string }[] = [];
  sink.on("message", (topic, payload) => delivered.push({ topic, body: payload.toString() }));
  await sink.subscribeAsync("devices/edge1/modules/sink/inputs/#", { qos: 1 });

  const child = upstreamChild(dir, {
    deviceId: "child",
    upstreamToml: `hostname = "localhost"\nprotocol = "${protocol}"\n` +
      `port = ${protocol === "wss" ? parent.ports.https : parent.ports.mqtts}\n` +
      `ca_file = "${parent.caFile}"\nshared_access_key = "${childKey}"`,
    heldModules: [],
  });
  const desired: TwinPatch[] = [];
  const twins: unknown[] = [];
  const c2d: { deviceId: string; body: string; appProperties: Record<string, string> }[] = [];
  child.component.upstream.setHandlers({
    onDesired: (_identity, patch) => void desired.push(patch),
    onTwin: (_identity, twin) => void twins.push(twin),
    onMethod: (identity: IdentityRef, request) =>
      Promise.resolve({
        status: 200,
        payload: { who: identity.deviceId, method: request.methodName, echo: request.payload },
      }),
    onC2D: (deviceId, message) => {
      c2d.push({
        deviceId,
        body: new TextDecoder().decode(message.body),
        appProperties: message.appProperties,
      });
      return Promise.resolve();
    },
  });
  try {
    for (let i = 0; i < 20; i++) {
      await child.store.enqueue({
        body: encoder.encode(`{"n":${i}}`),
        appProperties: { line: "A" },
        systemProperties: {
          messageId: `c${i}`,
          connectionDeviceId: "child",
          contentType: "application/json",
          contentEncoding: "utf-8",
        },
      }, [{ endpoint: UPSTREAM_ENDPOINT, priority: 0, ttlSeconds: -1 }]);
    }
    await child.start();
    await waitFor("the child to connect", () => child.component.upstream.state().connected);
    await waitFor("the sink to get 20 messages", () => delivered.length >= 20);
    const first = delivered.find((d) => d.topic.includes("%24.mid=c0"))!;
    assert.ok(first, "message c0 delivered");
    assert.match(first.topic, /^devices\/edge1\/modules\/sink\/inputs\/in\//);
    assert.match(first.topic, /line=A/);
    assert.match(first.topic, /%24\.cdid=child/); // stamped by the parent from the connection
    assert.match(first.topic, /%24\.ct=application%2Fjson/);
    assert.equal(first.body, '{"n":0}');

    // The twin fetched on connect, then a desired patch pushed live.
    await waitFor("the twin on connect", () => twins.length > 0);
    parent.hub.hub.patchDesired({ deviceId: "child" }, { telemetryInterval: 5 });
    await waitFor("the desired patch", () => desired.length > 0);
    assert.equal(desired[0]!.telemetryInterval, 5);
    const twin = await child.component.upstream.getTwin({ deviceId: "child" });
    assert.equal(twin.desired.telemetryInterval, 5);

    // Reported properties go up, batched.
    const accepted = await Promise.all([
      child.component.upstream.patchReported({ deviceId: "child" }, { status: { a: 1 } }),
      child.component.upstream.patchReported({ deviceId: "child" }, { status: { b: 2 } }),
    ]);
    assert.deepEqual(accepted, [true, true]);
    const reported = parent.hub.hub.getTwin({ deviceId: "child" }).reported;
    assert.deepEqual(reported.status, { a: 1, b: 2 });

    // A direct method from the parent is answered by the child's handler.
    const result = await parent.hub.hub.invokeMethod({ deviceId: "child" }, {
      methodName: "ping",
      payload: { x: 1 },
      responseTimeoutInSeconds: 10,
    });
    assert.deepEqual(result, {
      status: 200,
      payload: { who: "child", method: "ping", echo: { x: 1 } },
    });

    // C2D from the parent reaches the child's handler.
    await parent.hub.hub.sendC2D("child", {
      body: encoder.encode("open valve"),
      properties: { valve: "3" },
    });
    await waitFor("the C2D message", () => c2d.length > 0);
    assert.deepEqual(c2d[0], {
      deviceId: "child",
      body: "open valve",
      appProperties: { valve: "3" },
    });
  } finally {
    await child.stop();
    await sink.endAsync(true);
    await parent.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a child whose key the ledge parent does not know shows an auth failure", async () => {
  const parent = await startHubFixture();
  const dir = await Deno.makeTempDir({ prefix: "ledge-upstream-child-" });
  await parent.security.manager.addDevice("child", "sas");
  const child = upstreamChild(dir, {
    deviceId: "child",
    upstreamToml: `hostname = "localhost"\nport = ${parent.ports.mqtts}\n` +
      `ca_file = "${parent.caFile}"\nshared_access_key = "${btoa("not-the-registered-key")}"`,
    heldModules: [],
  });
  try {
    await child.start();
    await waitFor(
      "a refusal",
      () => child.component.upstream.state().device?.lastErrorKind === "auth",
    );
    assert.equal(child.component.upstream.state().connected, false);
  } finally {
    await child.stop();
    await parent.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
