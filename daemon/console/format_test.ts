import assert from "node:assert/strict";
import {
  formatAgo,
  formatBytes,
  formatCount,
  formatDuration,
  formatDurationShort,
  formatMilliseconds,
  formatRate,
  formatTime,
} from "./format.ts";

Deno.test("the console's number formats", () => {
  assert.equal(formatCount(1234567.4), "1,234,567");
  assert.deepEqual([0, 0.44, 9.96, 12.4, 1500].map(formatRate), [
    "0/s",
    "0.4/s",
    "10.0/s",
    "12/s",
    "1,500/s",
  ]);
  assert.deepEqual([0, 812, 1536, 37 * 1024 * 1024].map(formatBytes), [
    "0 B",
    "812 B",
    "1.5 KiB",
    "37 MiB",
  ]);
  assert.deepEqual([42, 303, 11520, 1_051_200].map(formatDuration), [
    "42 s",
    "5 min 3 s",
    "3 h 12 min",
    "12 d 4 h",
  ]);
  assert.deepEqual([42, 431, 18_000, 1_051_200].map(formatDurationShort), [
    "42 s",
    "7 min",
    "5 h",
    "12 d",
  ]);
  assert.deepEqual([42, 431, 18_000, 1_051_200].map(formatDurationShort), [
    "42 s",
    "7 min",
    "5 h",
    "12 d",
  ]);
  assert.equal(formatTime("2025-01-31T14:05:09.123Z"), "2025-01-31 14:05:09 UTC");
  assert.equal(formatTime("nonsense"), "—");
  assert.equal(formatAgo("2025-01-31T14:05:00Z", Date.parse("2025-01-31T14:05:12Z")), "12 s ago");
  assert.equal(formatAgo(null), "—");
  assert.equal(formatAgo("1970-01-01T00:00:00Z"), "—");
});

Deno.test("formatMilliseconds() keeps two significant figures of a short time", () => {
  assert.deepEqual([0.318, 4.54, 27.4, 1234].map(formatMilliseconds), [
    "0.32 ms",
    "4.5 ms",
    "27 ms",
    "1,234 ms",
  ]);
  assert.equal(formatMilliseconds(NaN), "\u2014", "no observation yet");
});
