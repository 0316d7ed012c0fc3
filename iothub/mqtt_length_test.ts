import assert from "node:assert/strict";
import { remainingLengthSize, writeRemainingLength } from "./mqtt_length.ts";

Deno.test("writeRemainingLength() writes §2.2.3's examples and remainingLengthSize() measures them", () => {
  const cases: [number, number[]][] = [
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [16_383, [0xff, 0x7f]],
    [16_384, [0x80, 0x80, 0x01]],
    [2_097_151, [0xff, 0xff, 0x7f]],
    [2_097_152, [0x80, 0x80, 0x80, 0x01]],
    [268_435_455, [0xff, 0xff, 0xff, 0x7f]],
  ];
  for (const [length, bytes] of cases) {
    const out = new Uint8Array(6);
    const end = writeRemainingLength(out, 1, length);
    assert.deepEqual([...out.subarray(1, end)], bytes, `length ${length}`);
    assert.equal(remainingLengthSize(length), bytes.length, `size of ${length}`);
  }
});
