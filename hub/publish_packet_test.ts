import assert from "node:assert/strict";
import { encodePublish } from "./publish_packet.ts";

Deno.test("encodePublish() writes header, topic, packet id and payload", () => {
  const packet = encodePublish("ab", new Uint8Array([9]), { qos: 1, packetId: 258 });
  assert.deepEqual([...packet], [0x32, 7, 0, 2, 97, 98, 1, 2, 9]);
  assert.throws(() => encodePublish("a", new Uint8Array(), { qos: 1 }), RangeError);
});
