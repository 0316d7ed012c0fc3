import assert from "node:assert/strict";
import { afterMicrotasks, WRITE_LEVELS } from "./microtasks.ts";

Deno.test("afterMicrotasks() runs after the work queued before it, down to its depth", async () => {
  const order: string[] = [];
  // As a commit's listener does: a pump one level down, whose write a transport batches
  // WRITE_LEVELS below it.
  queueMicrotask(() => {
    order.push("pump");
    afterMicrotasks(WRITE_LEVELS, () => order.push("write"));
  });
  afterMicrotasks(1 + WRITE_LEVELS + 1, () => order.push("after the write"));
  afterMicrotasks(1 + WRITE_LEVELS, () => order.push("same level as the write"));
  afterMicrotasks(0, () => order.push("at once"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(order, [
    "at once",
    "pump",
    "write",
    "same level as the write",
    "after the write",
  ]);
});
