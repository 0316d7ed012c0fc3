import assert from "node:assert/strict";
import { createPacketScanner } from "./packet_guard.ts";
import { encodePublish } from "./publish_packet.ts";

function connectPacket(): Uint8Array {
  return new Uint8Array([0x10, 12, 0, 4, 77, 81, 84, 84, 4, 2, 0, 60, 0, 0]);
}

Deno.test("createPacketScanner() passes well-formed packets split at any byte", () => {
  const stream = new Uint8Array([
    ...connectPacket(),
    ...encodePublish("devices/d/messages/events/", new Uint8Array(300), { qos: 1, packetId: 1 }),
    0xc0,
    0,
  ]);
  for (const size of [1, 2, 7, stream.length]) {
    const scanner = createPacketScanner({ maxPacketBytes: 1024 });
    for (let at = 0; at < stream.length; at += size) {
      assert.equal(scanner.push(stream.subarray(at, at + size)), undefined);
    }
  }
});

Deno.test("createPacketScanner() stops an oversize packet at its header", () => {
  const scanner = createPacketScanner({ maxPacketBytes: 1024 });
  const big = encodePublish("t", new Uint8Array(5000), { qos: 0 });
  assert.match(scanner.push(big.subarray(0, 4)) ?? "", /exceeds the limit/);
});

Deno.test("createPacketScanner() refuses broker-only packet types and bad lengths", () => {
  assert.match(
    createPacketScanner({ maxPacketBytes: 10 }).push(new Uint8Array([0x20, 2, 0, 0])) ?? "",
    /type 2/,
  );
  assert.match(
    createPacketScanner({ maxPacketBytes: 1e9 }).push(
      new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff]),
    ) ?? "",
    /malformed/,
  );
});

Deno.test("encodePublish() writes header, topic, packet id and payload", () => {
  const packet = encodePublish("ab", new Uint8Array([9]), { qos: 1, packetId: 258 });
  assert.deepEqual([...packet], [0x32, 7, 0, 2, 97, 98, 1, 2, 9]);
  assert.throws(() => encodePublish("a", new Uint8Array(), { qos: 1 }), RangeError);
});

function utf8(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

function mqttString(bytes: number[]): number[] {
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

function packet(first: number, body: number[]): Uint8Array {
  return new Uint8Array([first, body.length, ...body]);
}

/** Feeds `bytes` in chunks of every size and returns what each run reported. */
function scanAllSplits(bytes: Uint8Array): (string | undefined)[] {
  const verdicts: (string | undefined)[] = [];
  for (let size = 1; size <= bytes.length; size++) {
    const scanner = createPacketScanner({ maxPacketBytes: 1024 });
    let verdict: string | undefined;
    for (let at = 0; at < bytes.length && !verdict; at += size) {
      verdict = scanner.push(bytes.subarray(at, at + size));
    }
    verdicts.push(verdict);
  }
  return verdicts;
}

Deno.test("createPacketScanner() refuses what MQTT 3.1.1 says must close the connection", async (t) => {
  const topic = mqttString(utf8("devices/d/messages/events/"));
  const cases: [string, Uint8Array, RegExp][] = [
    ["PUBLISH QoS 1 with packet id 0", packet(0x32, [...topic, 0, 0, 1, 2]), /packet id 0/],
    ["SUBSCRIBE with packet id 0", packet(0x82, [0, 0, ...mqttString(utf8("a/#")), 1]), /id 0/],
    ["UNSUBSCRIBE with packet id 0", packet(0xa2, [0, 0, ...mqttString(utf8("a"))]), /id 0/],
    ["UNSUBSCRIBE without topics", packet(0xa2, [0, 7]), /without topics/],
    ["SUBSCRIBE without topics", packet(0x82, [0, 7]), /without topics/],
    [
      "PUBLISH topic of invalid UTF-8",
      packet(0x30, [...mqttString([0x61, 0xc3, 0x28]), 1]),
      /UTF-8/,
    ],
    [
      "PUBLISH topic with an encoded surrogate",
      packet(0x30, [...mqttString([0xed, 0xa0, 0x80])]),
      /UTF-8/,
    ],
    ["SUBSCRIBE filter of invalid UTF-8", packet(0x82, [0, 1, ...mqttString([0xff]), 0]), /UTF-8/],
    [
      "UNSUBSCRIBE filter of invalid UTF-8",
      packet(0xa2, [0, 1, ...mqttString([0xc0, 0x80])]),
      /UTF-8/,
    ],
    ["PUBLISH topic with U+0000", packet(0x30, [...mqttString([0x61, 0])]), /U\+0000/],
    ["PUBLISH empty topic", packet(0x30, [...mqttString([]), 1]), /empty topic/],
    ["PUBLISH topic with a wildcard", packet(0x30, [...mqttString(utf8("a/#"))]), /wildcard/],
    ["PUBLISH QoS 3", packet(0x36, [...topic, 0, 1]), /QoS 3/],
    ["PUBLISH topic past the end", packet(0x30, [0, 40, 97]), /past the end/],
    [
      "PUBLISH QoS 1 ending before its packet id",
      packet(0x32, [...mqttString([97]), 0]),
      /past the end|packet id/,
    ],
    ["SUBSCRIBE with flags 0000", packet(0x80, [0, 1, ...mqttString([97]), 0]), /flags/],
    ["SUBSCRIBE requesting QoS 3", packet(0x82, [0, 1, ...mqttString([97]), 3]), /QoS byte 3/],
    ["SUBSCRIBE without a QoS byte", packet(0x82, [0, 1, ...mqttString([97])]), /QoS/],
    ["SUBSCRIBE filter past the end", packet(0x82, [0, 1, 0, 9, 97]), /past the end/],
  ];
  for (const [name, bytes, expected] of cases) {
    await t.step(name, () => {
      for (const verdict of scanAllSplits(bytes)) assert.match(verdict ?? "passed", expected);
    });
  }
});

Deno.test("createPacketScanner() passes valid SUBSCRIBE, UNSUBSCRIBE and QoS 0/1 PUBLISH at any split", () => {
  const stream = new Uint8Array([
    ...packet(0x82, [0, 1, ...mqttString(utf8("devices/d/modules/m/inputs/#")), 1]),
    ...packet(0xa2, [0, 2, ...mqttString(utf8("a/+")), ...mqttString(utf8("ü/b"))]),
    ...packet(0x30, [...mqttString(utf8("$iothub/twin/GET/?$rid=1"))]),
    ...packet(0x32, [...mqttString(utf8("t")), 0, 9]),
    ...packet(0x32, [...mqttString(utf8("t")), 1, 0, 1, 2, 3]),
  ]);
  for (const verdict of scanAllSplits(stream)) assert.equal(verdict, undefined);
});
