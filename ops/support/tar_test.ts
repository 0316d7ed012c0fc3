import assert from "node:assert/strict";
import { tarArchive } from "./tar.ts";

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

Deno.test("tarArchive() writes ustar headers with a valid checksum, padded data and an end", () => {
  const tar = tarArchive([{ path: "b/x.txt", data: "hello", mtime: new Date(1_700_000_000_000) }]);
  assert.equal(tar.length, 512 + 512 + 1024);
  const header = tar.subarray(0, 512);
  assert.equal(text(header.subarray(0, 7)), "b/x.txt");
  assert.equal(text(header.subarray(124, 135)), (5).toString(8).padStart(11, "0"));
  assert.equal(text(header.subarray(257, 262)), "ustar");
  const stored = parseInt(text(header.subarray(148, 154)), 8);
  const blank = new Uint8Array(header);
  blank.fill(0x20, 148, 156);
  assert.equal(stored, blank.reduce((a, b) => a + b, 0));
  assert.equal(text(tar.subarray(512, 517)), "hello");
  assert.ok(tar.subarray(517).every((byte) => byte === 0));
});

Deno.test("tarArchive() splits a long path into prefix and name", () => {
  const long = `${"d".repeat(120)}/file.log`;
  const header = tarArchive([{ path: long, data: "" }]).subarray(0, 512);
  assert.equal(text(header.subarray(0, 8)), "file.log");
  assert.equal(text(header.subarray(345, 465)), "d".repeat(120));
});

Deno.test("tarArchive() refuses absolute paths, .. and names ustar cannot hold", () => {
  assert.throws(() => tarArchive([{ path: "/etc/passwd", data: "" }]), /expected a relative path/);
  assert.throws(() => tarArchive([{ path: "a/../../b", data: "" }]), /expected a relative path/);
  assert.throws(() => tarArchive([{ path: "x".repeat(101), data: "" }]), /too long/);
});
