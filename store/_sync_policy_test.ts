import assert from "node:assert/strict";
import {
  LOOP_AVERAGE_MAX_MS,
  LOOP_SYNC_MAX_MS,
  POOL_PERIOD_MS,
  SyncPolicy,
} from "./_sync_policy.ts";

/**
 * A policy on a fake clock, with loop syncs that take `latencyMs` of it; records what it reported,
 * where each sync ran and what each `done` got.
 */
function policyOnClock() {
  const clock = { now: 0, latencyMs: 0.3, fail: false };
  const slow: { averageMs: number; lastMs: number }[] = [];
  const ran = { loop: 0, pool: 0 };
  const outcomes: unknown[] = [];
  const policy = new SyncPolicy(
    (averageMs, lastMs) => slow.push({ averageMs, lastMs }),
    () => clock.now,
  );
  /** One sync through the policy: undefined when it ran on the loop (done already called). */
  const sync = () =>
    policy.run(
      () => {
        ran.loop++;
        clock.now += clock.latencyMs;
        if (clock.fail) throw new Error("EIO");
      },
      () => {
        ran.pool++;
        return Promise.resolve();
      },
      (error) => outcomes.push(error),
    );
  return { clock, slow, ran, outcomes, policy, sync };
}

Deno.test("syncs stay on the loop while the disk answers fast", () => {
  const { policy, sync, slow, ran, outcomes } = policyOnClock();
  for (let i = 0; i < 100; i++) {
    assert.equal(policy.onPool, false);
    assert.equal(sync(), undefined, "done on the loop");
  }
  assert.equal(outcomes.length, 100);
  assert.ok(outcomes.every((error) => error === undefined));
  assert.deepEqual(ran, { loop: 100, pool: 0 });
  assert.deepEqual(policy.counters, { onLoop: 100, onPool: 0, toPool: 0 });
  assert.deepEqual(slow, []);
});

Deno.test("one slow sync among fast ones keeps the syncs on the loop", () => {
  const { clock, policy, sync } = policyOnClock();
  for (let i = 0; i < 20; i++) sync();
  clock.latencyMs = LOOP_AVERAGE_MAX_MS * 4;
  sync();
  clock.latencyMs = 0.3;
  assert.equal(policy.onPool, false, "a busy moment of the disk");
  for (let i = 0; i < 20; i++) sync();
  assert.equal(policy.counters.toPool, 0);
});

Deno.test("a slow disk sends the syncs to the pool for a period, then the loop judges it afresh", async () => {
  const { clock, policy, sync, slow, ran } = policyOnClock();
  clock.latencyMs = LOOP_AVERAGE_MAX_MS * 2;
  let onLoop = 0;
  while (!policy.onPool) {
    sync();
    onLoop++;
  }
  // The average crosses the limit after a few syncs of 20 ms: 2.5, 4.7, 6.6, 8.3, 9.7, 11.0 ms.
  assert.equal(onLoop, 6);
  assert.equal(slow.length, 1);
  assert.ok(slow[0]!.averageMs > LOOP_AVERAGE_MAX_MS);
  assert.equal(slow[0]!.lastMs, LOOP_AVERAGE_MAX_MS * 2);
  const pooled = sync();
  assert.ok(pooled instanceof Promise, "on the pool while the period lasts");
  await pooled;
  clock.now += POOL_PERIOD_MS - 1;
  assert.equal(policy.onPool, true, "still within the period");
  clock.now += 1;
  assert.equal(policy.onPool, false, "the loop again once the period is over");
  clock.latencyMs = 0.3;
  for (let i = 0; i < 20; i++) sync();
  assert.equal(policy.onPool, false, "a disk fast again keeps them on the loop");
  assert.deepEqual(policy.counters, { onLoop: 26, onPool: 1, toPool: 1 });
  assert.deepEqual(ran, { loop: 26, pool: 1 });
});

Deno.test("a single sync of LOOP_SYNC_MAX_MS sends the next ones to the pool at once", () => {
  const { clock, policy, sync, slow } = policyOnClock();
  clock.latencyMs = LOOP_SYNC_MAX_MS;
  sync();
  assert.equal(policy.onPool, true);
  assert.deepEqual(slow.map((s) => s.lastMs), [LOOP_SYNC_MAX_MS]);
});

Deno.test("a failed sync reaches done with its error, and counts when it was slow", () => {
  const { clock, policy, sync, outcomes } = policyOnClock();
  clock.fail = true;
  clock.latencyMs = LOOP_SYNC_MAX_MS + 1;
  assert.equal(sync(), undefined);
  assert.equal(outcomes.length, 1);
  assert.match((outcomes[0] as Error).message, /EIO/);
  assert.equal(policy.onPool, true, "a failing disk that is slow goes to the pool too");
});

Deno.test("a pool sync rejected without a reason still reaches done with an error", async () => {
  // Send the syncs to the pool: one sync of LOOP_SYNC_MAX_MS on a clock that jumps.
  let now = 0;
  const jumping = new SyncPolicy(() => {}, () => now);
  jumping.run(() => void (now += LOOP_SYNC_MAX_MS), () => Promise.resolve(), () => {});
  const outcomes: unknown[] = [];
  await jumping.run(() => {}, () => Promise.reject(undefined), (error) => outcomes.push(error));
  assert.equal(outcomes.length, 1);
  assert.ok(outcomes[0] instanceof Error, "refused, not taken for a success");
});

Deno.test("the policy times every sync, on the loop and on the pool, failed or not", async () => {
  const { clock, policy, sync } = policyOnClock();
  clock.latencyMs = 0.3;
  sync();
  clock.fail = true;
  sync();
  clock.fail = false;
  clock.latencyMs = LOOP_SYNC_MAX_MS; // sends the next syncs to the pool
  sync();
  // On the pool, from the call to the completion the loop sees: 20 ms of the clock.
  const pending = policy.run(() => {}, () => {
    clock.now += 20;
    return Promise.resolve();
  }, () => {});
  await pending;
  const { bounds, cumulative, count, sum } = policy.seconds.snapshot();
  assert.equal(count, 4);
  assert.ok(Math.abs(sum - (0.0003 * 2 + LOOP_SYNC_MAX_MS / 1000 + 0.02)) < 1e-9);
  const atOrBelow = (seconds: number) => cumulative[bounds.indexOf(seconds)];
  assert.equal(atOrBelow(0.0002), 0);
  assert.equal(atOrBelow(0.0005), 2, "the two fast loop syncs");
  assert.equal(atOrBelow(0.02), 3, "and the pool's");
  assert.equal(atOrBelow(0.1), 4, "and the slow one");
});
