import assert from "node:assert/strict";
import {
  children,
  DerError,
  namedBits,
  oid,
  oidString,
  readOne,
  readTime,
  readTlv,
  sequence,
  smallInteger,
  TAG,
  time,
  unsignedInteger,
} from "./der.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("oid() and oidString() round-trip, multi-byte arcs included", () => {
  for (const dotted of ["2.5.29.17", "1.2.840.10045.4.3.2", "1.3.6.1.5.5.7.3.2", "2.999.3"]) {
    const encoded = oid(dotted);
    assert.equal(encoded[0], TAG.oid);
    assert.equal(oidString(readOne(encoded).content), dotted);
  }
  assert.deepEqual(oid("1.2.840.10045.4.3.2"), bytes(6, 8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 3, 2));
});

Deno.test("INTEGERs are minimal and positive", () => {
  assert.deepEqual(unsignedInteger(bytes(0, 0, 5)), bytes(2, 1, 5));
  assert.deepEqual(unsignedInteger(bytes(0x80)), bytes(2, 2, 0, 0x80));
  assert.deepEqual(unsignedInteger(bytes()), bytes(2, 1, 0));
  assert.deepEqual(smallInteger(0), bytes(2, 1, 0));
  assert.deepEqual(smallInteger(300), bytes(2, 2, 1, 0x2c));
});

Deno.test("namedBits() drops trailing zero bits (KeyUsage)", () => {
  assert.deepEqual(namedBits([0]), bytes(3, 2, 7, 0x80)); // digitalSignature
  assert.deepEqual(namedBits([5, 6]), bytes(3, 2, 1, 0x06)); // keyCertSign, cRLSign
  assert.deepEqual(namedBits([8]), bytes(3, 3, 7, 0, 0x80));
});

Deno.test("time() writes UTCTime before 2050 and GeneralizedTime from 2050, and reads back", () => {
  const early = new Date("2049-12-31T23:59:59Z");
  const late = new Date("2050-01-01T00:00:00Z");
  assert.equal(time(early)[0], TAG.utcTime);
  assert.equal(time(late)[0], TAG.generalizedTime);
  assert.equal(readTime(readOne(time(early))).toISOString(), early.toISOString());
  assert.equal(readTime(readOne(time(late))).toISOString(), late.toISOString());
});

Deno.test("long lengths are written and read", () => {
  const big = sequence(new Uint8Array(300));
  assert.deepEqual(big.subarray(0, 4), bytes(0x30, 0x82, 1, 0x2c));
  assert.equal(readOne(big).content.length, 300);
});

Deno.test("the reader refuses what DER forbids, naming it", async (t) => {
  for (
    const [name, input] of [
      ["truncated header", bytes(0x30)],
      ["indefinite length", bytes(0x30, 0x80, 0, 0)],
      ["length not shortest", bytes(0x04, 0x81, 0x05, 1, 2, 3, 4, 5)],
      ["content past the end", bytes(0x04, 5, 1, 2)],
      ["multi-byte tag", bytes(0x1f, 0x81, 1, 0)],
      ["huge length", bytes(0x04, 0x85, 1, 0, 0, 0, 0)],
    ] as const
  ) {
    await t.step(name, () => assert.throws(() => readTlv(input), DerError));
  }
  assert.throws(() => readOne(bytes(0x05, 0, 0)), /trailing bytes/);
  assert.throws(() => readOne(bytes(0x05, 0), TAG.sequence), /expected tag 0x30/);
  assert.deepEqual(children(bytes(5, 0, 5, 0)).length, 2);
});
