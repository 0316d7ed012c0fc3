import assert from "node:assert/strict";
import { CoalescedWrites } from "./coalesced_writes.ts";

Deno.test("CoalescedWrites: requests during a write share the next one, each after its own change", async () => {
  let state = 0;
  const written: number[] = [];
  // Each write waits for its gate; `started` resolves with a write's gate when it starts.
  let started = Promise.withResolvers<() => void>();
  const writes = new CoalescedWrites(() => {
    const snapshot = state;
    const done = Promise.withResolvers<void>();
    started.resolve(() => (written.push(snapshot), done.resolve()));
    return done.promise;
  });
  state = 1;
  const first = writes.request();
  const openFirst = await started.promise;
  started = Promise.withResolvers();
  const later: Promise<void>[] = [];
  for (let i = 2; i <= 50; i++) {
    state = i;
    later.push(writes.request());
  }
  openFirst();
  await first;
  assert.deepEqual(written, [1]);
  (await started.promise)();
  await Promise.all(later);
  assert.deepEqual(written, [1, 50], "49 changes during the first write cost one more write");
});

Deno.test("CoalescedWrites: a failed write fails the requests it held, the next one runs", async () => {
  let fail = true;
  const writes = new CoalescedWrites(() =>
    fail ? Promise.reject(new Error("disk full")) : Promise.resolve()
  );
  await assert.rejects(writes.request(), /disk full/);
  fail = false;
  await writes.request();
});
