import assert from "node:assert/strict";
import { MAX_TIMER_MS, renewalTime, timerDelay } from "./renewal.ts";

const day = 86400_000;
const validity = { notBefore: new Date(0), notAfter: new Date(30 * day) };

Deno.test("renewalTime() falls between 60 % and 70 % of the lifetime, by the jitter", () => {
  assert.equal(renewalTime(validity, () => 0).getTime(), 18 * day);
  assert.equal(renewalTime(validity, () => 0.5).getTime(), 19.5 * day);
  assert.ok(renewalTime(validity, () => 0.999999).getTime() < 21 * day);
});

Deno.test("renewalTime() of an expired certificate is in the past, so it renews at once", () => {
  const at = renewalTime({ notBefore: new Date(0), notAfter: new Date(60_000) }, () => 0.5);
  assert.equal(timerDelay(at, new Date(120_000)), 0);
});

Deno.test("timerDelay() never exceeds what setTimeout can wait", () => {
  assert.equal(timerDelay(new Date(400 * day), new Date(0)), MAX_TIMER_MS);
  assert.equal(timerDelay(new Date(5000), new Date(1000)), 4000);
});

Deno.test("renewalTime() counts the lifetime from the issue time of a back-dated certificate", () => {
  const issued = { notBefore: new Date(0), notAfter: new Date(120_000) }; // back-dated 60 s
  assert.equal(renewalTime(issued, () => 0, 60_000).getTime(), 60_000 + 36_000);
});
