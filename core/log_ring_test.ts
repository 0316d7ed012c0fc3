import assert from "node:assert/strict";
import { createLogRing } from "./log_ring.ts";

Deno.test("createLogRing() keeps the newest records, oldest first, and filters by time", () => {
  const ring = createLogRing(3);
  for (let i = 0; i < 5; i++) {
    ring.push({ time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), message: `m${i}` });
  }
  assert.deepEqual(ring.since(0).map((line) => JSON.parse(line).message), ["m2", "m3", "m4"]);
  assert.deepEqual(
    ring.since(Date.UTC(2026, 0, 1, 0, 0, 4)).map((line) => JSON.parse(line).message),
    ["m4"],
  );
});
