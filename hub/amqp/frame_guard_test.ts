import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import rhea from "rhea";
import { createFrameScanner } from "./frame_guard.ts";

const AMQP_HEADER = new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0]);
const SASL_HEADER = new Uint8Array([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);

function frame(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  new DataView(bytes.buffer).setUint32(0, size);
  bytes[4] = 2;
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

Deno.test("createFrameScanner() passes headers and frames within the limit, split anyhow", () => {
  const stream = concat(SASL_HEADER, frame(30), AMQP_HEADER, frame(8), frame(1000), frame(64));
  for (const step of [1, 3, 7, 64, stream.length]) {
    const scanner = createFrameScanner({ maxFrameBytes: 1000 });
    for (let at = 0; at < stream.length; at += step) {
      assert.equal(scanner.push(stream.subarray(at, at + step)), undefined, `step ${step}`);
    }
  }
});

Deno.test("createFrameScanner() refuses an oversized frame from its header alone", () => {
  const scanner = createFrameScanner({ maxFrameBytes: 65536 });
  assert.equal(scanner.push(AMQP_HEADER), undefined);
  const header = frame(8);
  new DataView(header.buffer).setUint32(0, 0xffffff00);
  assert.match(scanner.push(header.subarray(0, 4)) ?? "", /4294967040 bytes exceeds/);
});

Deno.test("createFrameScanner() refuses undersized frames and unknown protocol headers", () => {
  assert.match(
    createFrameScanner({ maxFrameBytes: 100 }).push(
      concat(AMQP_HEADER, new Uint8Array([0, 0, 0, 4])),
    ) ??
      "",
    /below the minimum/,
  );
  assert.match(
    createFrameScanner({ maxFrameBytes: 100 }).push(
      new Uint8Array([0x41, 0x4d, 0x51, 0x50, 9, 1, 0, 0]),
    ) ?? "",
    /unsupported protocol header/,
  );
});

Deno.test("createFrameScanner() reads a real rhea transfer stream", () => {
  // A message encoded by rhea, framed as rhea's transport would send it, passes.
  const payload = rhea.message.encode({ body: "x".repeat(500) });
  const scanner = createFrameScanner({ maxFrameBytes: 1024 });
  assert.equal(scanner.push(concat(AMQP_HEADER, frame(payload.length + 8))), undefined);
});
