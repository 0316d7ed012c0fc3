import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded_random.ts";
import { LeaseMap } from "./_lease_map.ts";

/** The first `count` keys of `map` in insertion order, without walking the rest. */
function firstKeys(map: Map<number, unknown>, count: number): number[] {
  const keys: number[] = [];
  for (const key of map.keys()) {
    if (keys.push(key) === count) break;
  }
  return keys;
}

Deno.test("LeaseMap answers as a Map does over a seeded stream of sets and deletes", async (t) => {
  for (const [name, stride] of [["consecutive seqs", 1], ["seqs interleaved 1 in 4", 4]] as const) {
    await t.step(name, () => {
      const random = seededRandom(stride);
      const map = new LeaseMap<{ seq: number }>();
      const reference = new Map<number, { seq: number }>();
      let next = 1;
      for (let step = 0; step < 200_000; step++) {
        const roll = random();
        if (roll < 0.5 || reference.size === 0) {
          const seq = next;
          next += stride;
          map.set(seq, { seq });
          reference.set(seq, { seq });
        } else {
          // Mostly the oldest (acks come in order), sometimes any, sometimes one not there.
          const keys = firstKeys(reference, 8);
          const seq = roll < 0.9 ? keys[0]! : roll < 0.98 ? keys[keys.length - 1]! : next + 7;
          assert.equal(map.delete(seq), reference.delete(seq), `delete ${seq} at step ${step}`);
        }
        if (step % 997 === 0) {
          assert.equal(map.size, reference.size);
          for (const [seq, value] of reference) assert.deepEqual(map.get(seq), value);
        }
      }
      for (const seq of [...reference.keys()]) assert.ok(map.delete(seq));
      assert.equal(map.size, 0);
      assert.equal(map.has(1), false);
    });
  }
});

Deno.test("LeaseMap grows past half full, shrinks below an eighth, and keeps every entry", () => {
  const map = new LeaseMap<number>();
  for (let seq = 1; seq <= 10_000; seq++) map.set(seq, seq * 2);
  assert.equal(map.size, 10_000);
  for (let seq = 1; seq <= 9_990; seq++) assert.ok(map.delete(seq));
  for (let seq = 9_991; seq <= 10_000; seq++) assert.equal(map.get(seq), seq * 2);
  assert.equal(map.get(5), undefined);
  assert.equal(map.has(10_001), false);
});

Deno.test("LeaseMap replaces the value of a seq set twice, and refuses a seq that is not one", () => {
  const map = new LeaseMap<string>();
  map.set(7, "a").set(7, "b");
  assert.equal(map.size, 1);
  assert.equal(map.get(7), "b");
  for (const bad of [0, -1, 1.5, NaN, 2 ** 53]) {
    assert.throws(() => map.set(bad, "x"), /Cannot lease seq/);
  }
  assert.equal(map.has(0), false, "0 marks an empty slot, never a seq");
  assert.equal(map.delete(0), false);
});
