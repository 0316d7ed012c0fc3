import assert from "node:assert/strict";
import { resolveTtlSeconds } from "./ttl.ts";

Deno.test("resolveTtlSeconds() takes the route's TTL first, then the deployment's, then the config's", async (t) => {
  await t.step("a route TTL wins", () => {
    assert.equal(
      resolveTtlSeconds({ routeTtlSeconds: 30, deploymentTtlSeconds: 7200, configTtlSeconds: 60 }),
      30,
    );
  });
  await t.step("a route TTL of 0 means the route sets none", () => {
    assert.equal(
      resolveTtlSeconds({ routeTtlSeconds: 0, deploymentTtlSeconds: 7200, configTtlSeconds: 60 }),
      7200,
    );
  });
  await t.step("without a deployment value the config's applies", () => {
    assert.equal(resolveTtlSeconds({ routeTtlSeconds: undefined, configTtlSeconds: 60 }), 60);
    assert.equal(resolveTtlSeconds({ configTtlSeconds: -1 }), -1);
  });
  await t.step("a negative deployment TTL (forever) is kept, not replaced", () => {
    assert.equal(resolveTtlSeconds({ deploymentTtlSeconds: -1, configTtlSeconds: 60 }), -1);
  });
  await t.step("a deployment TTL of 0 is a real value: expire at once", () => {
    assert.equal(resolveTtlSeconds({ deploymentTtlSeconds: 0, configTtlSeconds: 60 }), 0);
  });
});
