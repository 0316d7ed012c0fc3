/**
 * The hub's MQTT codec fuzzed over real sockets (bounded, seeded): oversized, malformed and
 * truncated packets from authenticated clients, on the native plain listener and on MQTT/TLS.
 * Malformed and oversized input closes only that connection (or is answered, when the damage
 * left a valid packet); a truncated packet waits for the rest and is answered once it comes; a
 * bystander client keeps being acknowledged throughout.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded_random.ts";
import { startHubFixture } from "./_hub_fixture.ts";
import { sasToken } from "./_hub_sas.ts";
import { connectPacket, mqttString, PacketReader, publishPacket, rawPacket } from "./_mqtt_raw.ts";

const SEED = 20261202;
const ROUNDS = 40;
const PINGREQ = new Uint8Array([0xc0, 0]);
const PUBACK = 4;
const PINGRESP = 13;

Deno.test("hub codec fuzz: bad packets close only their own connection", async (t) => {
  const fixture = await startHubFixture();
  try {
    const host = "hub.example";
    await fixture.moduleEnv("fz");
    const identity = fixture.security.manager.registry.get("edge1", "fz");
    assert.ok(identity && identity.auth.type === "sas");
    const key = identity.auth.primaryKey;
    const events = "devices/edge1/modules/fz/messages/events/";
    const ca = await Deno.readTextFile(fixture.caFile);

    const open = async (tls: boolean) => {
      const conn = tls
        ? await Deno.connectTls({ hostname: "localhost", port: fixture.ports.mqtts, caCerts: [ca] })
        : await Deno.connect({ hostname: "127.0.0.1", port: fixture.ports.plain });
      const reader = new PacketReader(conn);
      await conn.write(connectPacket({
        clientId: "edge1/fz",
        username: `${host}/edge1/fz/?api-version=2021-04-12`,
        password: sasToken({ host, deviceId: "edge1", moduleId: "fz", key }),
        clean: true,
      }));
      const connack = await reader.next();
      assert.equal(connack?.body[1], 0, "CONNACK accepted");
      return reader;
    };

    const valid = [
      () => publishPacket(events, { qos: 1, packetId: 77, payload: "x".repeat(100) }),
      () => rawPacket(0x82, [0, 5, ...mqttString("$iothub/twin/res/#"), 1]),
      () => rawPacket(0xa2, [0, 6, ...mqttString("$iothub/twin/res/#")]),
      () => publishPacket("$iothub/twin/GET/?$rid=4", { qos: 0, payload: "" }),
    ];

    for (const tls of [false, true]) {
      await t.step(tls ? "MQTT/TLS (node:tls)" : "plain (native socket)", async () => {
        const next = seededRandom(SEED + (tls ? 1 : 0));
        let closed = 0;
        let answered = 0;
        for (let round = 0; round < ROUNDS; round++) {
          // The offender and a bystander: the session takeover rule means one identity has one
          // connection, so the bystander checks the hub between rounds instead of alongside.
          const reader = await open(tls);
          const kind = round % 3;
          const bytes = [...valid[Math.floor(next() * valid.length)]!()];
          if (kind === 0) {
            // Oversized: a remaining length beyond max_message_bytes + framing.
            await reader.conn.write(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f]));
            assert.equal(await reader.next(), null, `round ${round}: oversized not closed`);
            closed++;
          } else if (kind === 1) {
            // Malformed: 1-3 bytes of the body (and the type nibble) replaced, framing kept.
            for (let i = 0; i < 1 + Math.floor(next() * 3); i++) {
              const at = 2 + Math.floor(next() * (bytes.length - 2));
              bytes[at] = Math.floor(next() * 256);
            }
            if (next() < 0.3) bytes[0] = Math.floor(next() * 16) << 4 | (bytes[0]! & 0x0f);
            await reader.conn.write(new Uint8Array([...bytes, ...PINGREQ]));
            let outcome: "closed" | "answered" = "closed";
            for (let reply = await reader.next(); reply; reply = await reader.next()) {
              if (reply.type === PINGRESP) {
                outcome = "answered";
                break;
              }
            }
            if (outcome === "closed") closed++;
            else answered++;
          } else {
            // Truncated: the hub waits for the rest, then answers.
            const cut = 1 + Math.floor(next() * (bytes.length - 1));
            await reader.conn.write(new Uint8Array(bytes.slice(0, cut)));
            await reader.conn.write(new Uint8Array([...bytes.slice(cut), ...PINGREQ]));
            let reply = await reader.next();
            while (reply && reply.type !== PINGRESP) reply = await reader.next();
            assert.ok(reply, `round ${round}: a truncated packet completed later was not answered`);
            answered++;
          }
          reader.conn.close();
          const bystander = await open(tls);
          await bystander.conn.write(publishPacket(events, { qos: 1, packetId: 1 + round }));
          assert.equal((await bystander.next())?.type, PUBACK, `round ${round}: bystander`);
          bystander.conn.close();
        }
        assert.ok(closed >= ROUNDS / 3, `${closed} closed`);
        assert.ok(answered >= ROUNDS / 3, `${answered} answered`);
      });
    }
  } finally {
    await fixture.stop();
  }
});
