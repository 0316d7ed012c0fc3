import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { FlushTimer } from "./_flush_timer.ts";

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

Deno.test("FlushTimer runs once at the next turn however often that is asked, and a sooner request replaces a later one", async () => {
  let runs = 0;
  const timer = new FlushTimer(() => runs++);
  // A pending one-minute timer that a run at the next turn must replace (else the test leaks it).
  timer.schedule(60_000);
  for (let i = 0; i < 5; i++) timer.schedule(0);
  timer.schedule(60_000);
  await nextTurn();
  await nextTurn();
  assert.equal(runs, 1);
  timer.schedule(0);
  timer.cancel();
  await nextTurn();
  assert.equal(runs, 1, "cancelled");
  timer.schedule(0);
  await nextTurn();
  assert.equal(runs, 2, "asked again after its run");
});
