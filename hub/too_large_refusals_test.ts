import assert from "node:assert/strict";
import { DEAD_LETTER_AFTER, TooLargeRefusals } from "./too_large_refusals.ts";

const big = new Uint8Array(10).fill(7);

Deno.test("TooLargeRefusals dead-letters the same message from the same sender at its third refusal", () => {
  const refusals = new TooLargeRefusals();
  assert.equal(DEAD_LETTER_AFTER, 3);
  assert.deepEqual(refusals.refuse("leaf", "%24.mid=1", big), { refusal: 1, deadLetter: false });
  assert.deepEqual(refusals.refuse("other", "%24.mid=1", big), { refusal: 1, deadLetter: false });
  assert.deepEqual(refusals.refuse("leaf", "%24.mid=2", big), { refusal: 1, deadLetter: false });
  assert.deepEqual(refusals.refuse("leaf", "%24.mid=1", big), { refusal: 2, deadLetter: false });
  assert.deepEqual(refusals.refuse("leaf", "%24.mid=1", big), { refusal: 3, deadLetter: true });
  assert.deepEqual(
    refusals.refuse("leaf", "%24.mid=1", big),
    { refusal: 1, deadLetter: false },
    "counted anew after its dead-lettering",
  );
});

Deno.test("TooLargeRefusals forgets the oldest message beyond its bound", () => {
  const refusals = new TooLargeRefusals({ limit: 2, maxEntries: 2 });
  refusals.refuse("leaf", "a", big);
  refusals.refuse("leaf", "b", big);
  refusals.refuse("leaf", "c", big);
  assert.equal(refusals.refuse("leaf", "a", big).deadLetter, false, "a was forgotten");
  assert.equal(refusals.refuse("leaf", "c", big).deadLetter, true);
});
