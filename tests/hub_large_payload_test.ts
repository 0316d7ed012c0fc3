/**
 * Large payloads keep their bytes through the hub (bounded, seeded): a module sends PUBLISHes of
 * up to 40 KB back to back on the plain listener (the native socket, whose read buffer the next
 * read overwrites), written in pieces cut at random, so a read holds several packets, the end of
 * one and the start of the next, or the middle of one; another module gets each routed payload
 * byte for byte, in order.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded_random.ts";
import { startHubFixture } from "./_hub_fixture.ts";
import { sasToken } from "./_hub_sas.ts";
import { connectPacket, mqttString, PacketReader, rawPacket } from "./_mqtt_raw.ts";
import { closeClient, type MqttClient } from "./_hub_mqtt.ts";
import { waitFor } from "./_wait.ts";

const SEED = 20261203;
const MESSAGES = 60;
const MAX_PAYLOAD_BYTES = 40_000;
const PUBACK = 4;

/** Payload `n`: seeded bytes, sizes from empty to `MAX_PAYLOAD_BYTES`, some of them 16 KiB. */
function payloads(next: () => number): Uint8Array[] {
  return Array.from({ length: MESSAGES }, (_, n) => {
    const size = n % 5 === 0 ? 16_384 : Math.floor(next() ** 2 * MAX_PAYLOAD_BYTES);
    return Uint8Array.from({ length: size }, () => Math.floor(next() * 256));
  });
}

Deno.test("hub: large PUBLISHes cut anywhere by reads reach the routed module byte for byte", async () => {
  const fixture = await startHubFixture();
  const clients: MqttClient[] = [];
  let conn: Deno.Conn | undefined;
  try {
    fixture.applyRoutes({
      r: 'FROM /messages/modules/src/* INTO BrokeredEndpoint("/modules/dst/inputs/in")',
    });
    const dst = await fixture.connectModule("dst");
    clients.push(dst);
    const received: Uint8Array[] = [];
    dst.on("message", (_topic, payload) => received.push(new Uint8Array(payload)));
    await dst.subscribeAsync("devices/edge1/modules/dst/inputs/#", { qos: 1 });

    await fixture.security.manager.provisionModule("src");
    const identity = fixture.security.manager.registry.get("edge1", "src");
    assert.ok(identity && identity.auth.type === "sas");
    const host = "hub.example";
    conn = await Deno.connect({ hostname: "127.0.0.1", port: fixture.ports.plain });
    const reader = new PacketReader(conn);
    await conn.write(connectPacket({
      clientId: "edge1/src",
      username: `${host}/edge1/src/?api-version=2021-04-12`,
      password: sasToken({
        host,
        deviceId: "edge1",
        moduleId: "src",
        key: identity.auth.primaryKey,
      }),
    }));
    assert.equal((await reader.next())?.body[1], 0, "CONNACK accepted");

    const next = seededRandom(SEED);
    const sent = payloads(next);
    const topic = mqttString("devices/edge1/modules/src/messages/events/%24.on=out");
    const packets = sent.map((payload, n) => rawPacket(0x32, [...topic, 0, n + 1, ...payload]));
    const stream = new Uint8Array(packets.reduce((sum, packet) => sum + packet.length, 0));
    let length = 0;
    for (const packet of packets) {
      stream.set(packet, length);
      length += packet.length;
    }
    for (let at = 0; at < length;) {
      const piece = Math.min(length - at, 1 + Math.floor(next() * 3 * MAX_PAYLOAD_BYTES));
      await conn.write(stream.subarray(at, at + piece));
      at += piece;
    }
    for (let n = 0; n < MESSAGES; n++) {
      const reply = await reader.next();
      assert.equal(reply?.type, PUBACK, `PUBACK ${n + 1}`);
      assert.equal(reply.body[0]! << 8 | reply.body[1]!, n + 1, "PUBACKs in order");
    }

    await waitFor("every payload at dst", () => received.length >= MESSAGES, {
      describe: () => ({ received: received.length }),
    });
    assert.equal(received.length, MESSAGES);
    received.forEach((payload, n) => assert.deepEqual(payload, sent[n], `payload ${n + 1}`));
  } finally {
    conn?.close();
    for (const client of clients) await closeClient(client);
    await fixture.stop();
  }
});
