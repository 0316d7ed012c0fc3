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
