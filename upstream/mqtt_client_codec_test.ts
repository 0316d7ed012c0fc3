import assert from "node:assert/strict";
import mqttPacket from "npm:mqtt-packet@9.0.2";
import { Buffer } from "node:buffer";
import {
  MqttClientProtocolError,
  PacketWriter,
  type ParentPacketHandler,
  ParentPacketReader,
} from "./mqtt_client_codec.ts";
import { seededRandom } from "../core/seeded_random.ts";

/** Parses what the writer produced with mqtt-packet, the reference codec. */
function parseAll(bytes: Uint8Array): Record<string, unknown>[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: Record<string, unknown>[] = [];
  parser.on("packet", (packet) => packets.push(packet as unknown as Record<string, unknown>));
  parser.on("error", (error: Error) => {
    throw error;
  });
  parser.parse(Buffer.from(bytes));
  return packets;
}

Deno.test("PacketWriter writes CONNECT, SUBSCRIBE, PUBLISH, PUBACK and PINGREQ as mqtt-packet reads them", () => {
  const writer = new PacketWriter();
  writer.connect({
    clientId: "child/sensor",
    username: "parent/child/sensor/?api-version=1",
    password: "SharedAccessSignature sr=x",
    keepaliveSeconds: 180,
    cleanSession: false,
  });
  writer.subscribe(7, ["$iothub/methods/POST/#", "devices/child/messages/devicebound/#"]);
  writer.publish("devices/child/messages/events/a=1&%24.mid=ü", new Uint8Array([1, 2, 3]), 1, 9);
  writer.publish("$iothub/twin/GET/?$rid=1", new Uint8Array(0), 0, 0);
  writer.puback(65535);
  writer.pingreq();
  const packets = parseAll(writer.take());
  assert.deepEqual(packets.map((p) => p.cmd), [
    "connect",
    "subscribe",
    "publish",
    "publish",
    "puback",
    "pingreq",
  ]);
  const [connect, subscribe, publish, twin, puback] = packets;
  assert.deepEqual(connect!.clientId, "child/sensor");
  assert.deepEqual(connect!.clean, false);
  assert.deepEqual(connect!.keepalive, 180);
  assert.deepEqual(connect!.username, "parent/child/sensor/?api-version=1");
  assert.deepEqual(String(connect!.password), "SharedAccessSignature sr=x");
  assert.deepEqual(subscribe!.messageId, 7);
  assert.deepEqual(subscribe!.subscriptions, [
    { topic: "$iothub/methods/POST/#", qos: 1 },
    { topic: "devices/child/messages/devicebound/#", qos: 1 },
  ]);
  assert.deepEqual(publish!.topic, "devices/child/messages/events/a=1&%24.mid=ü");
  assert.deepEqual(publish!.qos, 1);
  assert.deepEqual(publish!.messageId, 9);
  assert.deepEqual([...(publish!.payload as Uint8Array)], [1, 2, 3]);
  assert.deepEqual(twin!.qos, 0);
  assert.deepEqual(puback!.messageId, 65535);
});

Deno.test("PacketWriter encodes the remaining length right around each size boundary", () => {
  const random = seededRandom(13);
  for (const size of [0, 1, 100, 127 - 40, 16_383 - 60, 16_384, 70_000, 2_097_152]) {
    const writer = new PacketWriter();
    const topic = "t/" + "é".repeat(Math.floor(random() * 20)) + "x".repeat(30);
    const payload = new Uint8Array(size).fill(7);
    writer.publish(topic, payload, 1, 1);
    writer.take();
    // The second buffer too, after the first was taken.
    writer.publish(topic, payload, 1, 2);
    const [packet] = parseAll(writer.take());
    assert.deepEqual(packet!.topic, topic);
    assert.deepEqual((packet!.payload as Uint8Array).length, size);
    assert.deepEqual(packet!.messageId, 2);
  }
});

function recorder(): { handler: ParentPacketHandler; seen: unknown[][] } {
  const seen: unknown[][] = [];
  return {
    seen,
    handler: {
      connack: (present, code) => seen.push(["connack", present, code]),
      puback: (id) => seen.push(["puback", id]),
      suback: (id, codes) => seen.push(["suback", id, codes]),
      pingresp: () => seen.push(["pingresp"]),
      publish: (topic, payload, qos, id) => seen.push(["publish", topic, [...payload], qos, id]),
    },
  };
}

Deno.test("ParentPacketReader reads the parent's packets whole, split at every byte", () => {
  const stream = Buffer.concat([
    mqttPacket.generate({ cmd: "connack", returnCode: 0, sessionPresent: true }),
    mqttPacket.generate({ cmd: "suback", messageId: 3, granted: [1, 128] }),
    mqttPacket.generate({ cmd: "puback", messageId: 300 }),
    mqttPacket.generate({
      cmd: "publish",
      topic: "$iothub/methods/POST/reboot/?$rid=1",
      payload: Buffer.from([9, 8]),
      qos: 1,
      messageId: 5,
      dup: false,
      retain: false,
    }),
    mqttPacket.generate({ cmd: "pingresp" }),
  ]);
  const expected = [
    ["connack", true, 0],
    ["suback", 3, [1, 128]],
    ["puback", 300],
    ["publish", "$iothub/methods/POST/reboot/?$rid=1", [9, 8], 1, 5],
    ["pingresp"],
  ];
  for (let split = 0; split <= stream.length; split++) {
    const { handler, seen } = recorder();
    const reader = new ParentPacketReader(handler);
    reader.push(new Uint8Array(stream.subarray(0, split)));
    reader.push(new Uint8Array(stream.subarray(split)));
    assert.deepEqual(seen, expected, `split at ${split}`);
  }
});

Deno.test("ParentPacketReader refuses what a parent must not send", () => {
  const cases: [string, number[]][] = [
    ["a CONNECT", [0x10, 0]],
    ["a QoS 2 PUBLISH", [0x34, 5, 0, 1, 0x74, 0, 1]],
    ["a PUBLISH with packet id 0", [0x32, 5, 0, 1, 0x74, 0, 0]],
    ["a topic that is not UTF-8", [0x30, 3, 0, 1, 0xff]],
    ["a short PUBACK", [0x40, 1, 0]],
    ["a remaining length over 4 bytes", [0x30, 0xff, 0xff, 0xff, 0xff, 1]],
  ];
  for (const [what, bytes] of cases) {
    const reader = new ParentPacketReader(recorder().handler);
    assert.throws(() => reader.push(new Uint8Array(bytes)), MqttClientProtocolError, what);
  }
});
