import assert from "node:assert/strict";
import { createFailureLimiter } from "./failure_limiter.ts";

Deno.test("createFailureLimiter() blocks a source after its failures and forgets them after a minute", () => {
  let now = 0;
  const limiter = createFailureLimiter({ limitPerMinute: 3, now: () => now });
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.blocked("1.2.3.4"), false);
    limiter.fail("1.2.3.4");
  }
  assert.equal(limiter.blocked("1.2.3.4"), true);
  assert.equal(limiter.blocked("5.6.7.8"), false);
  now = 60_001;
  assert.equal(limiter.blocked("1.2.3.4"), false);
});
