/**
 * AMQP authentication and authorization against a real hub, with a plain rhea client: CBS
 * put-token accepted and refused, links of other identities refused with
 * `amqp:unauthorized-access`, an unrenewed token cutting its identity off at expiry, SASL PLAIN,
 * X.509 client certificates through the SDK, and connections that break the rules closed.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import rhea from "rhea";
import { WebSocket } from "ws";
import { AmqpRefusal, connectAmqp } from "./_amqp_client.ts";
import { type HubFixture, startHubFixture } from "./_hub_fixture.ts";
import { waitFor } from "./_wait.ts";
import { sasToken } from "./_hub_sas.ts";
import { sdkAvailable, startSdkProcess } from "./_sdk_process.ts";
import { serviceTest } from "./_services.ts";

const HOST = "hub.example";

async function moduleKey(fixture: HubFixture, moduleId: string): Promise<string> {
  await fixture.security.manager.provisionModule(moduleId);
  const identity = fixture.security.manager.registry.get("edge1", moduleId);
  if (identity?.auth.type !== "sas") throw new Error(`${moduleId} has no SAS key`);
  return identity.auth.primaryKey;
}

function audience(moduleId: string): string {
  return encodeURIComponent(`${HOST}/devices/edge1/modules/${moduleId}`);
}

async function refusedWith(promise: Promise<unknown>, condition: string): Promise<void> {
  const error = await promise.then(() => undefined, (caught) => caught);
  assert.ok(error instanceof AmqpRefusal, `expected a refusal, got ${error}`);
  assert.equal(error.condition, condition, error.message);
}

serviceTest(
  "AMQP: CBS tokens authorize only their own identity's links, and expire",
  [],
  async (t) => {
    const fixture = await startHubFixture();
    try {
      fixture.hub.hub.applyDesired({
        edgeHub: {
          schemaVersion: "1.1",
          routes: { r: 'FROM /messages/modules/a/* INTO BrokeredEndpoint("/modules/b/inputs/in")' },
        },
        moduleTwins: {},
      });
      const keyA = await moduleKey(fixture, "a");
      const keyB = await moduleKey(fixture, "b");
      const caPem = fixture.security.manager.trustBundlePem();
      const connect = () => connectAmqp({ port: fixture.ports.amqps, caPem });

      await t.step("a valid put-token is accepted and the identity's links attach", async () => {
        const client = await connect();
        try {
          const reply = await client.putToken(
            audience("a"),
            sasToken({ host: HOST, deviceId: "edge1", moduleId: "a", key: keyA }),
          );
          assert.deepEqual(reply, { status: 200, description: "OK" });
          const sender = await client.openSender("/devices/edge1/modules/a/messages/events");
          await client.send(sender, { body: "hello", application_properties: { k: "v" } });
          assert.equal(fixture.hub.hub.stats().routed["/modules/b/inputs/in"], 1);
        } finally {
          await client.close();
        }
      });

      await t.step(
        "a bad token gets 401 and no link; another identity's link is refused",
        async () => {
          const client = await connect();
          try {
            const before = fixture.hub.hub.stats().authFailures;
            const wrongKey = await client.putToken(
              audience("a"),
              sasToken({ host: HOST, deviceId: "edge1", moduleId: "a", key: keyB }),
            );
            assert.equal(wrongKey.status, 401);
            const wrongAudience = await client.putToken(
              audience("b"),
              sasToken({ host: HOST, deviceId: "edge1", moduleId: "a", key: keyA }),
            );
            assert.equal(wrongAudience.status, 401);
            assert.equal(fixture.hub.hub.stats().authFailures, before + 2);
            await refusedWith(
              client.openSender("/devices/edge1/modules/a/messages/events"),
              "amqp:unauthorized-access",
            );
            await client.putToken(
              audience("a"),
              sasToken({ host: HOST, deviceId: "edge1", moduleId: "a", key: keyA }),
            );
            for (
              const address of ["/devices/edge1/modules/b/messages/events", "/devices/edge1/twin"]
            ) {
              await refusedWith(client.openSender(address), "amqp:unauthorized-access");
            }
            await refusedWith(
              client.openReceiver("/devices/edge1/modules/b/messages/events"),
              "amqp:unauthorized-access",
            );
            await refusedWith(client.openSender("/queues/anything"), "amqp:not-found");
            // The connection survives refused links.
            const sender = await client.openSender("/devices/edge1/modules/a/messages/events");
            await client.send(sender, { body: "still allowed" });
          } finally {
            await client.close();
          }
        },
      );

      await t.step("an unrenewed token cuts its identity's links off when it expires", async () => {
        const client = await connect();
        try {
          // 3–4 s: the token must still be valid when put and when the sender attaches, even
          // after a stall of a loaded machine (at +2, 1–2 s, a stall of a second could expire it).
          const expirySeconds = Math.floor(Date.now() / 1000) + 4;
          await client.putToken(
            audience("a"),
            sasToken({ host: HOST, deviceId: "edge1", moduleId: "a", key: keyA, expirySeconds }),
          );
          const sender = await client.openSender("/devices/edge1/modules/a/messages/events");
          const error = await client.linkClosed(sender);
          assert.equal(error?.condition, "amqp:unauthorized-access");
          assert.match(String(error?.description), /expired/);
          assert.equal(fixture.hub.hub.stats().heads.amqp?.tokenExpiries, 1);
          await refusedWith(
            client.openSender("/devices/edge1/modules/a/messages/events"),
            "amqp:unauthorized-access",
          );
        } finally {
          await client.close();
        }
      });

      await t.step("a removed identity is cut off at once and cannot come back", async () => {
        const added = await fixture.security.manager.addDevice("gone", "sas");
        const key = added.identity.auth.type === "sas" ? added.identity.auth.primaryKey : "";
        const token = sasToken({ host: HOST, deviceId: "gone", key });
        const client = await connect();
        try {
          await client.putToken(encodeURIComponent(`${HOST}/devices/gone`), token);
          const sender = await client.openSender("/devices/gone/messages/events");
          const closed = client.linkClosed(sender);
          await fixture.security.manager.removeDevice("gone");
          const error = await closed;
          assert.equal(error?.condition, "amqp:unauthorized-access");
          const again = await client.putToken(encodeURIComponent(`${HOST}/devices/gone`), token);
          assert.equal(again.status, 401);
        } finally {
          await client.close();
        }
      });

      await t.step("SASL PLAIN with a SAS token as password authorizes that identity", async () => {
        const client = await connectAmqp({
          port: fixture.ports.amqps,
          caPem,
          username: "edge1/modules/a@sas.hub",
          password: sasToken({ host: HOST, deviceId: "edge1", moduleId: "a", key: keyA }),
        });
        try {
          const sender = await client.openSender("/devices/edge1/modules/a/messages/events");
          await client.send(sender, { body: "over sasl" });
          await refusedWith(
            client.openSender("/devices/edge1/modules/b/messages/events"),
            "amqp:unauthorized-access",
          );
        } finally {
          await client.close();
        }
        await assert.rejects(
          connectAmqp({
            port: fixture.ports.amqps,
            caPem,
            username: "edge1/modules/a@sas.hub",
            password: sasToken({ host: HOST, deviceId: "edge1", moduleId: "a", key: keyB }),
          }),
        );
      });
    } finally {
      await fixture.stop();
    }
  },
);

serviceTest(
  "AMQP: oversized frames and messages, silent connections and unknown WebSocket subprotocols are cut off",
  [],
  async (t) => {
    const fixture = await startHubFixture(
      "[hub]\nmax_message_bytes = 4096\nconnect_timeout_seconds = 1\n",
    );
    try {
      const keyA = await moduleKey(fixture, "a");
      const caPem = fixture.security.manager.trustBundlePem();
      const token = () => sasToken({ host: HOST, deviceId: "edge1", moduleId: "a", key: keyA });

      await t.step("a message above max_message_bytes is rejected, the link stays", async () => {
        const client = await connectAmqp({ port: fixture.ports.amqps, caPem });
        try {
          await client.putToken(audience("a"), token());
          const sender = await client.openSender("/devices/edge1/modules/a/messages/events");
          await refusedWith(
            client.send(sender, { body: rhea.message.data_section(Buffer.alloc(8000)) }),
            "amqp:link:message-size-exceeded",
          );
          await client.send(sender, { body: "small" });
        } finally {
          await client.close();
        }
      });

      await t.step(
        "a frame header claiming more than the hub advertised closes the connection",
        async () => {
          const before = fixture.hub.hub.stats().protocolErrors;
          const socket = tls.connect({ port: fixture.ports.amqps, host: "localhost", ca: caPem });
          await new Promise((resolve) => socket.once("secureConnect", resolve));
          const closed = new Promise((resolve) => socket.once("close", resolve));
          socket.on("error", () => {});
          socket.on("data", () => {});
          const header = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0]);
          const frame = Buffer.alloc(8);
          frame.writeUInt32BE(100 * 1024 * 1024, 0);
          socket.write(Buffer.concat([header, frame]));
          await closed;
          assert.equal(fixture.hub.hub.stats().protocolErrors, before + 1);
        },
      );

      await t.step(
        "a WebSocket upgrade offering neither mqtt nor AMQPWSB10 gets a 400",
        async () => {
          const url = `wss://localhost:${fixture.ports.https}/$iothub/websocket`;
          const status = await new Promise<number | undefined>((resolve) => {
            const socket = new WebSocket(url, ["stomp"], { ca: caPem });
            socket.on("unexpected-response", (_request, response) => {
              resolve(response.statusCode);
              response.resume();
            });
            socket.on("open", () => {
              resolve(101);
              socket.close();
            });
            socket.on("error", () => resolve(undefined));
          });
          assert.equal(status, 400);
        },
      );

      await t.step(
        "a connection that authenticates nobody is closed after connect_timeout_seconds",
        async () => {
          const client = await connectAmqp({ port: fixture.ports.amqps, caPem });
          const error = await client.ended;
          assert.equal(error?.condition, "amqp:unauthorized-access");
        },
      );
    } finally {
      await fixture.stop();
    }
  },
);

serviceTest(
  "AMQP: an X.509 leaf device on the SDK's Amqp transport logs in with its certificate",
  [await sdkAvailable()],
  async () => {
    const fixture = await startHubFixture();
    try {
      fixture.hub.hub.applyDesired({
        edgeHub: {
          schemaVersion: "1.1",
          routes: { r: "FROM /messages/* WHERE $connectionDeviceId = 'leafx' INTO $upstream" },
        },
        moduleTwins: {},
      });
      const added = await fixture.security.manager.addDevice("leafx", "x509");
      assert.ok(added.certificateFile && added.keyFile);
      const leaf = startSdkProcess("device_client.cjs", {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        // The SDK's X.509 provider keeps only HostName: an X.509 leaf names the gateway there.
        LEDGE_TEST_CONNECTION_STRING: "HostName=localhost;DeviceId=leafx;x509=true",
        LEDGE_TEST_CA_FILE: fixture.caFile,
        LEDGE_TEST_CERT_FILE: added.certificateFile,
        LEDGE_TEST_KEY_FILE: added.keyFile,
        LEDGE_TEST_TRANSPORT: "Amqp",
        LEDGE_TEST_AMQP_PORT: String(fixture.ports.amqps),
      });
      try {
        await leaf.next((e) => e.event === "ready");
        await leaf.send({ op: "send", id: 1, body: "from an x509 leaf" });
        await leaf.next((e) => e.event === "sent" && e.id === 1);
        await waitFor(
          "the leaf's message in $upstream",
          () => fixture.hub.hub.stats().routed["$upstream"] === 1,
        );
      } finally {
        await leaf.send({ op: "close" }).catch(() => {});
        await leaf.close();
      }
    } finally {
      await fixture.stop();
    }
  },
);
