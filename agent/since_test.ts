import assert from "node:assert/strict";
import { parseSince } from "./since.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");

Deno.test("parseSince() reads Unix seconds, RFC 3339 times and durations", () => {
  assert.equal(parseSince("1714564800", NOW), 1714564800);
  assert.equal(parseSince("2024-05-01T11:00:00Z", NOW), NOW / 1000 - 3600);
  assert.equal(parseSince("10m", NOW), NOW / 1000 - 600);
  assert.equal(parseSince("1h30m", NOW), NOW / 1000 - 5400);
  assert.equal(parseSince("2d", NOW), NOW / 1000 - 172800);
});

Deno.test("parseSince() rejects anything else, naming the value", () => {
  for (const value of ["yesterday", "10x", "", "-5"]) {
    assert.throws(
      () => parseSince(value, NOW),
      new RegExp(`Cannot read since ${JSON.stringify(value)}`),
    );
  }
});
