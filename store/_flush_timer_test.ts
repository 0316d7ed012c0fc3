import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { FlushTimer } from "./_flush_timer.ts";

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

Deno.test("FlushTimer runs once at the next turn however often that is asked, and keeps a pending deadline", async () => {
  let runs = 0;
  const timer = new FlushTimer(() => runs++);
  timer.schedule(60_000);
  for (let i = 0; i < 5; i++) timer.schedule(0);
  timer.schedule(60_000);
  await nextTurn();
  await nextTurn();
  assert.equal(runs, 1);
  timer.schedule(0);
  timer.cancel();
  await nextTurn();
  assert.equal(runs, 1, "cancelled (the one-minute deadline too: the test leaks no timer)");
  timer.schedule(0);
  await nextTurn();
  assert.equal(runs, 2, "asked again after its run");
  timer.cancel();
});

Deno.test("FlushTimer runs at the earliest deadline asked for", async () => {
  const runs: number[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  const started = performance.now();
  const timer = new FlushTimer(() => {
    runs.push(performance.now() - started);
    resolve();
  });
  timer.schedule(60_000);
  timer.schedule(20);
  timer.schedule(40);
  // Between the two deadlines: it ran at 20 ms, the later request did not replace it.
  const at30 = new Promise<number>((resolve) => setTimeout(() => resolve(runs.length), 30));
  await promise;
  assert.ok(runs[0]! >= 19, `ran after ${runs[0]} ms, not before its 20 ms`);
  assert.equal(await at30, 1, "it ran before a timer of 30 ms");
  assert.equal(runs.length, 1);
  timer.cancel();
});
