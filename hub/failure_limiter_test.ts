import assert from "node:assert/strict";
import { createFailureLimiter, SOURCE_FACTOR } from "./failure_limiter.ts";

Deno.test("createFailureLimiter() blocks a source after its failures and forgets them after a minute", () => {
  let now = 0;
  const limiter = createFailureLimiter({ limitPerMinute: 3, now: () => now });
  for (let i = 0; i < 3 * SOURCE_FACTOR; i++) {
    assert.equal(limiter.blocked("1.2.3.4"), false);
    limiter.fail("1.2.3.4");
  }
  assert.equal(limiter.blocked("1.2.3.4"), true);
  assert.equal(limiter.blocked("1.2.3.4", "anyone"), true);
  assert.equal(limiter.blocked("5.6.7.8"), false);
  now = 60_001;
  assert.equal(limiter.blocked("1.2.3.4"), false);
});

Deno.test("one identity failing from an address does not lock out the others there", () => {
  let now = 0;
  const limiter = createFailureLimiter({ limitPerMinute: 3, now: () => now });
  for (let i = 0; i < 100; i++) {
    if (!limiter.blocked("10.0.0.1", "removed-device")) limiter.fail("10.0.0.1", "removed-device");
  }
  assert.equal(limiter.blocked("10.0.0.1", "removed-device"), true);
  assert.equal(limiter.blocked("10.0.0.1", "REMOVED-DEVICE"), true, "ids are case-insensitive");
  assert.equal(limiter.blocked("10.0.0.1", "sensor"), false);
  assert.equal(limiter.blocked("10.0.0.2", "removed-device"), false);
  now = 60_001;
  assert.equal(limiter.blocked("10.0.0.1", "removed-device"), false);
});

Deno.test("rotating the claimed identity still meets the address's own bound", () => {
  const limiter = createFailureLimiter({ limitPerMinute: 3, now: () => 0 });
  let refused = 0;
  for (let i = 0; i < 1000; i++) {
    const claimed = `guess-${i}`;
    if (limiter.blocked("10.0.0.9", claimed)) refused++;
    else limiter.fail("10.0.0.9", claimed);
  }
  assert.equal(1000 - refused, 3 * SOURCE_FACTOR);
  assert.ok(limiter.size() <= 3 * SOURCE_FACTOR + 1);
});
