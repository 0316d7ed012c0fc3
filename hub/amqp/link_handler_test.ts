import assert from "node:assert/strict";
import type { Delivery, Receiver } from "rhea";
import { CreditViolationError, CreditWindow } from "./link_handler.ts";

function fakeReceiver() {
  const grants: number[] = [];
  const receiver = { is_open: () => true, add_credit: (n: number) => grants.push(n) };
  return { grants, receiver: receiver as unknown as Receiver };
}
const unsettled = { remote_settled: false } as Delivery;
const presettled = { remote_settled: true } as Delivery;

Deno.test("CreditWindow grants its window, counts unsettled transfers, and tops up by quarters", () => {
  const { grants, receiver } = fakeReceiver();
  const window = new CreditWindow(receiver, 8);
  window.open();
  assert.deepEqual(grants, [8]);
  for (let i = 0; i < 8; i++) window.received(unsettled);
  assert.throws(() => window.received(unsettled), CreditViolationError);
  window.settled();
  assert.deepEqual(grants, [8], "one free slot is less than a quarter of the window");
  window.settled();
  assert.deepEqual(grants, [8, 2]);
});

Deno.test("CreditWindow gives pre-settled transfers their credit back at once", () => {
  const { grants, receiver } = fakeReceiver();
  const window = new CreditWindow(receiver, 4);
  window.open();
  window.received(presettled);
  assert.deepEqual(grants, [4, 1]);
});
