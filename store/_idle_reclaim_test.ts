import assert from "node:assert/strict";
import { IdleReclaim } from "./_idle_reclaim.ts";

Deno.test("a reclaim slice that throws is reported, not swallowed, and the watch stops", async () => {
  const failure = new Error("disk I/O error");
  let reported: unknown;
  let slices = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  const reclaim = new IdleReclaim({
    activity: () => 0,
    wanted: () => true,
    reclaim: () => {
      slices++;
      throw failure;
    },
    failed: (error) => {
      reported = error;
      resolve();
    },
  });
  // The reclaim's timer is unref'd (it must not keep a daemon alive); this one keeps the test's.
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    reclaim.start();
    await promise;
  } finally {
    clearInterval(keepAlive);
    reclaim.stop();
  }
  assert.equal(reported, failure);
  assert.equal(slices, 1);
});
