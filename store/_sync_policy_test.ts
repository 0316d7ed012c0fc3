import assert from "node:assert/strict";
import {
  LOOP_AVERAGE_MAX_MS,
  LOOP_SYNC_MAX_MS,
  POOL_PERIOD_MS,
  SyncPolicy,
} from "./_sync_policy.ts";

/** A policy on a fake clock, with syncs that take `latencyMs` of it; records what it reported. */
function policyOnClock() {
  const clock = { now: 0, latencyMs: 0.3 };
  const slow: { averageMs: number; lastMs: number }[] = [];
  const policy = new SyncPolicy(
    (averageMs, lastMs) => slow.push({ averageMs, lastMs }),
    () => clock.now,
  );
  const sync = () => {
    clock.now += clock.latencyMs;
    return "synced";
  };
  return { clock, slow, policy, sync };
}

Deno.test("syncs stay on the loop while the disk answers fast", () => {
  const { policy, sync, slow } = policyOnClock();
  for (let i = 0; i < 100; i++) {
    assert.equal(policy.onPool, false);
    assert.equal(policy.onLoop(sync), "synced");
  }
  assert.deepEqual(policy.counters, { onLoop: 100, onPool: 0, toPool: 0 });
  assert.deepEqual(slow, []);
});

Deno.test("one slow sync among fast ones keeps the syncs on the loop", () => {
  const { clock, policy, sync } = policyOnClock();
  for (let i = 0; i < 20; i++) policy.onLoop(sync);
  clock.latencyMs = LOOP_AVERAGE_MAX_MS * 4;
  policy.onLoop(sync);
  clock.latencyMs = 0.3;
  assert.equal(policy.onPool, false, "a busy moment of the disk");
  for (let i = 0; i < 20; i++) policy.onLoop(sync);
  assert.equal(policy.counters.toPool, 0);
});

Deno.test("a slow disk sends the syncs to the pool for a period, then the loop judges it afresh", async () => {
  const { clock, policy, sync, slow } = policyOnClock();
  clock.latencyMs = LOOP_AVERAGE_MAX_MS * 2;
  let onLoop = 0;
  while (!policy.onPool) {
    policy.onLoop(sync);
    onLoop++;
  }
  // The average crosses the limit after a few syncs of 20 ms: 2.5, 4.7, 6.6, 8.3, 9.7, 11.0 ms.
  assert.equal(onLoop, 6);
  assert.equal(slow.length, 1);
  assert.ok(slow[0]!.averageMs > LOOP_AVERAGE_MAX_MS);
  assert.equal(slow[0]!.lastMs, LOOP_AVERAGE_MAX_MS * 2);
  assert.equal(await policy.pooled(() => Promise.resolve("pooled")), "pooled");
  clock.now += POOL_PERIOD_MS - 1;
  assert.equal(policy.onPool, true, "still within the period");
  clock.now += 1;
  assert.equal(policy.onPool, false, "the loop again once the period is over");
  clock.latencyMs = 0.3;
  for (let i = 0; i < 20; i++) policy.onLoop(sync);
  assert.equal(policy.onPool, false, "a disk fast again keeps them on the loop");
  assert.deepEqual(policy.counters, { onLoop: 26, onPool: 1, toPool: 1 });
});

Deno.test("a single sync of LOOP_SYNC_MAX_MS sends the next ones to the pool at once", () => {
  const { clock, policy, sync, slow } = policyOnClock();
  clock.latencyMs = LOOP_SYNC_MAX_MS;
  policy.onLoop(sync);
  assert.equal(policy.onPool, true);
  assert.deepEqual(slow.map((s) => s.lastMs), [LOOP_SYNC_MAX_MS]);
});

Deno.test("a failed sync on the loop throws on, and counts when it was slow", () => {
  const { clock, policy } = policyOnClock();
  assert.throws(
    () =>
      policy.onLoop(() => {
        clock.now += LOOP_SYNC_MAX_MS + 1;
        throw new Error("EIO");
      }),
    /EIO/,
  );
  assert.equal(policy.onPool, true, "a failing disk that is slow goes to the pool too");
});
