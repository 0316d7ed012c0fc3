import assert from "node:assert/strict";
import { seededRandom } from "../../core/seeded_random.ts";
import { encodePublish } from "../publish_packet.ts";
import { MqttDecoder, MqttProtocolError } from "./mqtt_decoder.ts";
import type { ClientPacket } from "./mqtt_packets.ts";

const encoder = new TextEncoder();

function str(text: string): number[] {
  const bytes = encoder.encode(text);
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

function packet(first: number, body: number[]): number[] {
  return [first, body.length, ...body];
}

const CONNECT = packet(0x10, [
  ...str("MQTT"),
  4,
  0xc2,
  0,
  180,
  ...str("dev/mod"),
  ...str("hub/dev/mod/?api-version=2021-04-12"),
  ...str("SharedAccessSignature sr=x"),
]);

/**
 * Decodes `bytes` pushed `chunk` bytes at a time through one read buffer, overwritten after each
 * push as a transport reading into it again would: what the decoder keeps must be its own copy.
 * Views handed out (payload, password) are copied here, as the hub copies what it keeps.
 */
function decodeAll(bytes: Uint8Array, chunk: number, max = 1024): ClientPacket[] {
  const decoder = new MqttDecoder(max);
  const out: ClientPacket[] = [];
  const read = new Uint8Array(chunk);
  for (let at = 0; at < bytes.length; at += chunk) {
    const part = bytes.subarray(at, at + chunk);
    read.set(part);
    decoder.push(read.subarray(0, part.length), (p) => {
      if (p.type === "publish" && !p.detached) out.push({ ...p, payload: p.payload.slice() });
      else if (p.type === "connect") out.push({ ...p, password: p.password?.slice() });
      else out.push(p);
    });
    read.fill(0xee);
  }
  return out;
}

Deno.test("MqttDecoder decodes a client's packets split at any byte", () => {
  const stream = new Uint8Array([
    ...CONNECT,
    ...encodePublish("devices/dev/modules/mod/messages/events/a=1", new Uint8Array([1, 2, 3]), {
      qos: 1,
      packetId: 9,
    }),
    ...packet(0x40, [0, 3]),
    ...packet(0x82, [0, 4, ...str("devices/dev/modules/mod/inputs/#"), 1]),
    ...packet(0xa2, [0, 5, ...str("a/b")]),
    0xc0,
    0,
    0xe0,
    0,
  ]);
  for (const chunk of [1, 2, 3, 5, 7, 64, stream.length]) {
    const packets = decodeAll(stream, chunk);
    assert.deepEqual(packets.map((p) => p.type), [
      "connect",
      "publish",
      "puback",
      "subscribe",
      "unsubscribe",
      "pingreq",
      "disconnect",
    ]);
    const [connect, publish, , subscribe, unsubscribe] = packets;
    assert.deepEqual(connect, {
      type: "connect",
      protocolLevel: 4,
      clientId: "dev/mod",
      username: "hub/dev/mod/?api-version=2021-04-12",
      password: encoder.encode("SharedAccessSignature sr=x"),
      clean: true,
      keepaliveSeconds: 180,
      willTopic: undefined,
    });
    assert.equal(publish?.type === "publish" && publish.packetId, 9);
    assert.deepEqual(publish?.type === "publish" && [...publish.payload], [1, 2, 3]);
    assert.deepEqual(subscribe?.type === "subscribe" && subscribe.filters, [
      { topic: "devices/dev/modules/mod/inputs/#", qos: 1 },
    ]);
    assert.deepEqual(unsubscribe?.type === "unsubscribe" && unsubscribe.topics, ["a/b"]);
  }
});

Deno.test("MqttDecoder decodes a run of PUBLISHes on one topic and another, whole or cut by reads", () => {
  const publish = (topic: string, id: number, size: number) =>
    encodePublish(topic, new Uint8Array(size).fill(id), { qos: 1, packetId: id });
  const a = "devices/dev/modules/mod/messages/events/%24.on=out";
  const b = "devices/dev/modules/mod/messages/events/%24.on=other";
  const stream = new Uint8Array([
    ...publish(a, 1, 300),
    ...publish(a, 2, 5),
    ...publish(b, 3, 700),
    ...publish(a, 4, 0),
  ]);
  for (const chunk of [1, 13, 256, 512, stream.length]) {
    const packets = decodeAll(stream, chunk, 4096).filter((p) => p.type === "publish");
    assert.deepEqual(
      packets.map((
        p,
      ) => [p.topic, p.packetId, p.payload.length, p.payload.every((v) => v === p.packetId)]),
      [[a, 1, 300, true], [a, 2, 5, true], [b, 3, 700, true], [a, 4, 0, true]],
      `chunks of ${chunk}`,
    );
  }
});

Deno.test("MqttDecoder refuses a packet larger than the limit at its header", () => {
  const decoder = new MqttDecoder(1024);
  const big = encodePublish("t", new Uint8Array(5000), { qos: 0 });
  assert.throws(() => decoder.push(big.subarray(0, 4), () => {}), /exceeds the limit/);
});

Deno.test("MqttDecoder hands on a QoS 1 PUBLISH above the limit by topic and packet id, skipping its payload", () => {
  const topic = "devices/dev/messages/events/%24.mid=m1";
  const big = encodePublish(topic, new Uint8Array(5000).fill(9), { qos: 1, packetId: 7 });
  const after = encodePublish("devices/dev/messages/events/", new Uint8Array([1]), {
    qos: 1,
    packetId: 8,
  });
  const bytes = new Uint8Array([...big, ...after]);
  for (const chunk of [1, 2, 3, 7, 64, 1000, bytes.length]) {
    const packets = decodeAll(bytes, chunk);
    assert.equal(packets.length, 2, `chunks of ${chunk}`);
    const [oversized, next] = packets;
    assert.equal(oversized?.type, "oversized-publish");
    if (oversized?.type !== "oversized-publish") continue;
    assert.equal(oversized.topic, topic);
    assert.equal(oversized.packetId, 7);
    assert.equal(oversized.bytes, big.length - 3);
    assert.match(oversized.reason, /exceeds the limit of 1024/);
    assert.equal(next?.type === "publish" && next.packetId, 8, `chunks of ${chunk}`);
  }
});

Deno.test("MqttDecoder refuses what MQTT 3.1.1 forbids", async (t) => {
  const cases: [string, number[], RegExp][] = [
    ["PUBLISH packet id 0", packet(0x32, [...str("t"), 0, 0]), /packet id 0/],
    ["PUBLISH bad UTF-8", packet(0x30, [0, 2, 0xc3, 0x28]), /UTF-8/],
    ["PUBLISH wildcard", packet(0x30, [...str("a/+")]), /wildcard/],
    ["PUBLISH QoS 3", packet(0x36, [...str("t"), 0, 1]), /QoS 3/],
    ["SUBSCRIBE id 0", packet(0x82, [0, 0, ...str("a"), 0]), /id 0/],
    ["UNSUBSCRIBE without topics", packet(0xa2, [0, 1]), /without topics/],
    ["PINGREQ with a body", packet(0xc0, [1]), /has a body/],
    ["CONNACK from a client", packet(0x20, [0, 0]), /type 2/],
    ["reserved type 15", packet(0xf0, []), /type 15/],
    ["PUBACK of 3 bytes", packet(0x40, [0, 1, 2]), /length/],
    [
      "CONNECT of another protocol",
      packet(0x10, [...str("HTTP"), 4, 2, 0, 0, ...str("a")]),
      /MQTT/,
    ],
    ["CONNECT reserved flag", packet(0x10, [...str("MQTT"), 4, 3, 0, 0, ...str("a")]), /reserved/],
    [
      "CONNECT truncated",
      packet(0x10, [...str("MQTT"), 4, 0xc2, 0, 0, ...str("a")]),
      /ends before/,
    ],
    ["CONNECT trailing bytes", packet(0x10, [...str("MQTT"), 4, 2, 0, 0, ...str("a"), 9]), /after/],
    ["malformed length", [0x30, 0xff, 0xff, 0xff, 0xff, 0], /malformed/],
  ];
  for (const [name, bytes, expected] of cases) {
    await t.step(name, () => {
      assert.throws(() => decodeAll(new Uint8Array(bytes), 1), (error: Error) => {
        assert.ok(error instanceof MqttProtocolError, String(error));
        assert.match(error.message, expected);
        return true;
      });
    });
  }
});

Deno.test("MqttDecoder, fuzzed (seeded, bounded): damaged packets throw MqttProtocolError or wait for more, never anything else", () => {
  const valid = [
    CONNECT,
    [...encodePublish("devices/d/messages/events/", new Uint8Array(40), { qos: 1, packetId: 7 })],
    packet(0x82, [0, 4, ...str("devices/d/messages/devicebound/#"), 1]),
    packet(0xa2, [0, 5, ...str("a/b")]),
    packet(0x40, [0, 3]),
  ];
  const next = seededRandom(13);
  let refused = 0;
  for (let round = 0; round < 3000; round++) {
    const bytes = [...valid[Math.floor(next() * valid.length)]!];
    const kind = round % 3;
    if (kind === 0) bytes.length = Math.floor(next() * bytes.length); // truncated
    if (kind === 1) { // flipped bytes
      for (let i = 0; i < 1 + next() * 3; i++) {
        bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      }
    }
    if (kind === 2) bytes[1] = 0x80 | Math.floor(next() * 128); // length bytes inflated
    const decoder = new MqttDecoder(256);
    try {
      decoder.push(new Uint8Array(bytes), () => {});
    } catch (error) {
      assert.ok(error instanceof MqttProtocolError, `round ${round}: ${error}`);
      refused++;
    }
  }
  assert.ok(refused > 500, `only ${refused} of 3000 damaged packets were refused`);
});
