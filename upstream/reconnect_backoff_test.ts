import assert from "node:assert/strict";
import { reconnectDelayMs } from "./reconnect_backoff.ts";

Deno.test("reconnectDelayMs() doubles from the base and stops at the cap", () => {
  const top = { baseMs: 1000, maxMs: 60_000, random: () => 0.999999 };
  const delays = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => Math.round(reconnectDelayMs(n, top)));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
});

Deno.test("reconnectDelayMs() always waits at least half the delay, whatever the jitter", () => {
  for (const failures of [1, 2, 5, 30]) {
    const low = reconnectDelayMs(failures, { baseMs: 500, maxMs: 8000, random: () => 0 });
    const high = reconnectDelayMs(failures, { baseMs: 500, maxMs: 8000, random: () => 0.9999 });
    assert.ok(low > 0, `failures=${failures}`);
    assert.ok(Math.abs(high - 2 * low) < 1, `low ${low} high ${high}`);
  }
});

Deno.test("reconnectDelayMs() treats zero failures as the first retry", () => {
  assert.equal(reconnectDelayMs(0, { baseMs: 100, maxMs: 100, random: () => 0 }), 50);
});

Deno.test("reconnectDelayMs() refuses a base of zero or a cap below the base", () => {
  assert.throws(() => reconnectDelayMs(1, { baseMs: 0, maxMs: 10 }), /baseMs must be > 0/);
  assert.throws(() => reconnectDelayMs(1, { baseMs: 10, maxMs: 5 }), /maxMs must be ≥ baseMs/);
});
