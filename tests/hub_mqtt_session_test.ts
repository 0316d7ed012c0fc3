/**
 * The MQTT session rules the hub keeps, seen from a raw client over real sockets: a second
 * connection of one identity takes the session over, keepalive closes a silent client, a
 * persistent session (clean = 0) keeps its subscriptions across connections and gets what was
 * routed to it meanwhile without subscribing again, a clean one starts empty.
 */
import assert from "node:assert/strict";
import { startHubFixture } from "./_hub_fixture.ts";
import { sasToken } from "./_hub_sas.ts";
import {
  closedByPeer,
  connectPacket,
  mqttString,
  PacketReader,
  publishPacket,
  rawPacket,
} from "./_mqtt_raw.ts";

const CONNACK = 2;
const PUBLISH = 3;
const PUBACK = 4;
const SUBACK = 9;
const PINGRESP = 13;

Deno.test("hub MQTT sessions: takeover, keepalive, persistent and clean sessions", async (t) => {
  const fixture = await startHubFixture();
  try {
    const host = "hub.example";
    fixture.hub.hub.applyDesired({
      edgeHub: {
        schemaVersion: "1.0",
        routes: { toB: 'FROM /messages/modules/a/* INTO BrokeredEndpoint("/modules/b/inputs/in")' },
      },
      moduleTwins: {},
    });
    const keys: Record<string, string> = {};
    for (const moduleId of ["a", "b"]) {
      await fixture.moduleEnv(moduleId);
      const identity = fixture.security.manager.registry.get("edge1", moduleId);
      assert.ok(identity && identity.auth.type === "sas");
      keys[moduleId] = identity.auth.primaryKey;
    }
    const open = async (
      moduleId: string,
      options: { clean?: boolean; keepaliveSeconds?: number } = {},
    ) => {
      const reader = new PacketReader(
        await Deno.connect({ hostname: "127.0.0.1", port: fixture.ports.plain }),
      );
      await reader.conn.write(connectPacket({
        clientId: `edge1/${moduleId}`,
        username: `${host}/edge1/${moduleId}/?api-version=2021-04-12`,
        password: sasToken({ host, deviceId: "edge1", moduleId, key: keys[moduleId]! }),
        ...options,
      }));
      const connack = await reader.next();
      assert.equal(connack?.type, CONNACK);
      assert.equal(connack.body[1], 0);
      return { reader, sessionPresent: connack.body[0] === 1 };
    };
    const send = async (text: string) => {
      const { reader } = await open("a");
      await reader.conn.write(
        publishPacket("devices/edge1/modules/a/messages/events/", { qos: 1, payload: text }),
      );
      assert.equal((await reader.next())?.type, PUBACK);
      reader.conn.close();
    };
    const inputs = "devices/edge1/modules/b/inputs/#";

    await t.step("a second connection of one identity takes the session over", async () => {
      const first = await open("a");
      const second = await open("a");
      await closedByPeer(first.reader);
      await second.reader.conn.write(new Uint8Array([0xc0, 0]));
      assert.equal((await second.reader.next())?.type, PINGRESP);
      first.reader.conn.close();
      second.reader.conn.close();
    });

    await t.step(
      "keepalive: PINGREQ is answered, silence past 1.5 × keepalive closes",
      async () => {
        const { reader } = await open("a", { keepaliveSeconds: 1 });
        await reader.conn.write(new Uint8Array([0xc0, 0]));
        assert.equal((await reader.next())?.type, PINGRESP);
        await closedByPeer(reader, 10_000);
        reader.conn.close();
      },
    );

    await t.step("a persistent session gets what was routed while it was away", async () => {
      const first = await open("b", { clean: false });
      assert.equal(first.sessionPresent, false);
      await first.reader.conn.write(rawPacket(0x82, [0, 1, ...mqttString(inputs), 1]));
      assert.equal((await first.reader.next())?.type, SUBACK);
      first.reader.conn.close();
      await send("while away");
      const again = await open("b", { clean: false });
      assert.equal(again.sessionPresent, true);
      const delivery = await again.reader.next();
      assert.equal(delivery?.type, PUBLISH);
      assert.match(new TextDecoder().decode(delivery.body), /while away/);
      const id = delivery.body.subarray(delivery.body.length - "while away".length - 2);
      await again.reader.conn.write(rawPacket(0x40, [id[0]!, id[1]!]));
      again.reader.conn.close();
    });

    await t.step("a clean session starts without subscriptions", async () => {
      const clean = await open("b", { clean: true });
      assert.equal(clean.sessionPresent, false);
      clean.reader.conn.close();
      const after = await open("b", { clean: false });
      assert.equal(after.sessionPresent, false, "clean = 1 ended the stored session");
      after.reader.conn.close();
    });
  } finally {
    await fixture.stop();
  }
});
