/**
 * The HTTPS device API against a real hub: a leaf device on the official SDK's Http transport (a
 * real Node process) sends telemetry and batches routed through a WHERE on body and properties
 * and polls C2D with complete, reject and abandon; plain requests check authentication, locks and
 * bad input.
 */
import assert from "node:assert/strict";
import { Agent, request as httpsRequest } from "node:https";
import { type HubFixture, startHubFixture } from "./_hub_fixture.ts";
import { closeClient, collectDeliveries, type MqttClient } from "./_hub_mqtt.ts";
import { waitFor } from "./_wait.ts";
import { sasToken } from "./_hub_sas.ts";
import { sdkAvailable, type SdkProcess, startSdkProcess } from "./_sdk_process.ts";
import { serviceTest } from "./_services.ts";

const ROUTES = {
  leaf: "FROM /messages/* WHERE $connectionDeviceId = 'leafh' AND $body.v > 10 AND kind = 'hot' " +
    'INTO BrokeredEndpoint("/modules/b/inputs/fromleaf")',
  batch: "FROM /messages/* WHERE $connectionDeviceId = 'leafh' AND batch = 'yes' " +
    'INTO BrokeredEndpoint("/modules/b/inputs/batch")',
};

async function addLeaf(fixture: HubFixture, deviceId: string): Promise<string> {
  const added = await fixture.security.manager.addDevice(deviceId, "sas");
  return added.identity.auth.type === "sas" ? added.identity.auth.primaryKey : "";
}

/** One HTTPS request to the hub's listener (node:https, trusting the hub's CA). */
function call(
  fixture: HubFixture,
  method: string,
  path: string,
  options: {
    headers?: Record<string, string>;
    body?: string | Uint8Array;
    cert?: string;
    key?: string;
  } = {},
): Promise<
  { status: number; headers: Record<string, string | string[] | undefined>; body: string }
> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({
      host: "localhost",
      port: fixture.ports.https,
      method,
      path,
      headers: options.headers ?? {},
      ca: fixture.security.manager.trustBundlePem(),
      ...(options.cert ? { cert: options.cert, key: options.key } : {}),
      agent: new Agent({ keepAlive: false }),
    }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => body += chunk);
      response.on(
        "end",
        () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

serviceTest(
  "the Azure IoT SDK's Http transport runs unmodified: routed telemetry and batches, C2D with lock",
  [await sdkAvailable()],
  async (t) => {
    const fixture = await startHubFixture();
    const clients: MqttClient[] = [];
    let leaf: SdkProcess | undefined;
    try {
      fixture.hub.hub.applyDesired({
        edgeHub: { schemaVersion: "1.1", routes: ROUTES },
        moduleTwins: {},
      });
      const b = await fixture.connectModule("b");
      clients.push(b);
      const deliveries = await collectDeliveries(b, "devices/edge1/modules/b/inputs/#");
      const key = await addLeaf(fixture, "leafh");
      leaf = startSdkProcess("device_client.cjs", {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        // The SDK's Http transport dials HostName, not GatewayHostName: name the gateway there.
        LEDGE_TEST_CONNECTION_STRING: `HostName=localhost;DeviceId=leafh;SharedAccessKey=${key}`,
        LEDGE_TEST_CA_FILE: fixture.caFile,
        LEDGE_TEST_TRANSPORT: "Http",
        LEDGE_TEST_HTTPS_PORT: String(fixture.ports.https),
        LEDGE_TEST_C2D: "manual",
      });
      await leaf.next((e) => e.event === "ready");

      await t.step("sendEvent is routed through a WHERE on body and properties", async () => {
        const json = { contentType: "application/json", contentEncoding: "utf-8" };
        const sends = [
          { body: '{"v":5}', properties: { kind: "hot" } },
          { body: '{"v":50}', properties: { kind: "cold" } },
          {
            body: '{"v":20}',
            messageId: "mid-h",
            correlationId: "cid-h",
            properties: { kind: "hot" },
          },
        ];
        for (const [i, send] of sends.entries()) {
          await leaf!.send({ op: "send", id: i, ...json, ...send });
          await leaf!.next((e) => e.event === "sent" && e.id === i);
        }
        await waitFor("the hot message at b", () => deliveries.length === 1);
        const [delivery] = deliveries;
        assert.equal(delivery!.body, '{"v":20}');
        assert.match(delivery!.topic, /inputs\/fromleaf\//);
        const bag = new URLSearchParams(delivery!.topic.split("/fromleaf/")[1]);
        assert.equal(bag.get("kind"), "hot");
        assert.equal(bag.get("$.mid"), "mid-h");
        assert.equal(bag.get("$.cid"), "cid-h");
        assert.equal(bag.get("$.ct"), "application/json");
        assert.equal(bag.get("$.cdid"), "leafh");
      });

      await t.step("sendEventBatch delivers every message of the batch", async () => {
        await leaf!.send({
          op: "sendBatch",
          id: 10,
          messages: [1, 2, 3].map((n) => ({
            body: `b${n}`,
            properties: { batch: "yes", n: String(n) },
          })),
        });
        await leaf!.next((e) => e.event === "sent" && e.id === 10);
        await waitFor("the three batch messages at b", () => deliveries.length === 4);
        assert.deepEqual(deliveries.slice(1).map((d) => d.body), ["b1", "b2", "b3"]);
      });

      await t.step("C2D by polling: complete, reject, abandon (delivered again)", async () => {
        for (const name of ["complete-me", "reject-me", "abandon-me"]) {
          await fixture.hub.hub.sendC2D("leafh", {
            body: new TextEncoder().encode(name),
            properties: { name },
          });
        }
        const got = async (body: string) =>
          await leaf!.next((e) => e.event === "c2d" && e.body === body);
        const first = await got("complete-me");
        assert.equal(
          (first.properties as Record<string, string>)["iothub-app-name"],
          "complete-me",
        );
        const rejected = await got("reject-me");
        const abandoned = await got("abandon-me");
        await leaf!.send({ op: "settle", id: 11, messageId: first.messageId, how: "complete" });
        await leaf!.send({ op: "settle", id: 12, messageId: rejected.messageId, how: "reject" });
        await leaf!.send({ op: "settle", id: 13, messageId: abandoned.messageId, how: "abandon" });
        for (const id of [11, 12, 13]) {
          await leaf!.next((e) => e.event === "settled" && e.id === id);
        }
        const again = await got("abandon-me");
        assert.equal(again.messageId, abandoned.messageId);
        await leaf!.send({ op: "settle", id: 14, messageId: again.messageId, how: "complete" });
        await leaf!.next((e) => e.event === "settled" && e.id === 14);
        const bodies = leaf!.events.filter((e) => e.event === "c2d").map((e) => e.body);
        assert.deepEqual(bodies.sort(), ["abandon-me", "abandon-me", "complete-me", "reject-me"]);
        const queue = fixture.hub.hub.stats().queues.find((q) =>
          q.endpoint === "/devices/leafh/messages/devicebound"
        );
        assert.equal(queue?.count ?? 0, 0);
      });
    } finally {
      if (leaf) {
        await leaf.send({ op: "close" }).catch(() => {});
        await leaf.close();
      }
      for (const client of clients) await closeClient(client);
      await fixture.stop();
    }
  },
);

serviceTest(
  "the HTTPS device API refuses what IoT Hub refuses, with IoT Hub's statuses",
  [],
  async (t) => {
    const fixture = await startHubFixture("[hub]\nmax_message_bytes = 4096\n");
    try {
      const key = await addLeaf(fixture, "leafr");
      const token = sasToken({ host: "hub.example", deviceId: "leafr", key });
      const events = "/devices/leafr/messages/events?api-version=2021-04-12";
      const devicebound = "/devices/leafr/messages/devicebound";

      await t.step("no token, another device's token, a forged one: 401", async () => {
        assert.equal((await call(fixture, "POST", events, { body: "x" })).status, 401);
        const other = await addLeaf(fixture, "other");
        const otherToken = sasToken({ host: "hub.example", deviceId: "other", key: other });
        const wrong = await call(fixture, "POST", events, {
          headers: { authorization: otherToken },
          body: "x",
        });
        assert.equal(wrong.status, 401);
        assert.match(wrong.body, /leafr/);
        const forged = sasToken({ host: "hub.example", deviceId: "leafr", key: other });
        assert.equal(
          (await call(fixture, "GET", devicebound, { headers: { authorization: forged } })).status,
          401,
        );
      });

      await t.step("a removed device's token stops working at once", async () => {
        const goneKey = await addLeaf(fixture, "gone");
        const goneToken = sasToken({ host: "hub.example", deviceId: "gone", key: goneKey });
        const path = "/devices/gone/messages/events?api-version=2021-04-12";
        const headers = { authorization: goneToken };
        assert.equal((await call(fixture, "POST", path, { headers, body: "a" })).status, 204);
        await fixture.security.manager.removeDevice("gone");
        assert.equal((await call(fixture, "POST", path, { headers, body: "b" })).status, 401);
      });

      await t.step("an X.509 device authenticates with its client certificate alone", async () => {
        const added = await fixture.security.manager.addDevice("camx", "x509");
        const cert = await Deno.readTextFile(added.certificateFile!);
        const key = await Deno.readTextFile(added.keyFile!);
        const path = "/devices/camx/messages/events?api-version=2021-04-12";
        const sent = await call(fixture, "POST", path, { cert, key, body: "x509 telemetry" });
        assert.equal(sent.status, 204, sent.body);
        const asOther = await call(fixture, "POST", events, { cert, key, body: "x" });
        assert.equal(asOther.status, 401, "the certificate is camx's, not leafr's");
      });

      await t.step("too large 413, a broken batch 400, an empty C2D queue 204", async () => {
        const headers = { authorization: token };
        const large = await call(fixture, "POST", events, {
          headers,
          body: new Uint8Array(8000),
        });
        assert.equal(large.status, 413);
        const batch = await call(fixture, "POST", events, {
          headers: { ...headers, "content-type": "application/vnd.microsoft.iothub.json" },
          body: '[{"body":"not base64!"}]',
        });
        assert.equal(batch.status, 400);
        assert.match(batch.body, /\[0\]\.body is not base64/);
        assert.equal((await call(fixture, "GET", devicebound, { headers })).status, 204);
      });

      await t.step(
        "a lock is the device's own: unknown, settled or foreign locks are 412",
        async () => {
          const headers = { authorization: token };
          await fixture.hub.hub.sendC2D("leafr", { body: new TextEncoder().encode("c2d") });
          const got = await call(fixture, "GET", devicebound, { headers });
          assert.equal(got.status, 200);
          assert.equal(got.body, "c2d");
          const lock = String(got.headers.etag).replaceAll('"', "");
          const other = await addLeaf(fixture, "thief");
          const thief = sasToken({ host: "hub.example", deviceId: "thief", key: other });
          const stolen = await call(
            fixture,
            "DELETE",
            `/devices/thief/messages/devicebound/${lock}`,
            {
              headers: { authorization: thief },
            },
          );
          assert.equal(stolen.status, 412);
          const completed = await call(fixture, "DELETE", `${devicebound}/${lock}`, { headers });
          assert.equal(completed.status, 204);
          const twice = await call(fixture, "DELETE", `${devicebound}/${lock}`, { headers });
          assert.equal(twice.status, 412);
        },
      );
    } finally {
      await fixture.stop();
    }
  },
);
