import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded_random.ts";
import { LeaseMap } from "./_lease_map.ts";

/** The lease of `seq` as the reference holds it. */
function leaseAt(map: LeaseMap, seq: number): [number, number, boolean] {
  const slot = map.slotOf(seq);
  assert.ok(slot >= 0, `seq ${seq} is leased`);
  return [map.priorityAt(slot), map.sizeBytesAt(slot), map.isAckedAt(slot)];
}

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
      const map = new LeaseMap();
      // priority, size, acked
      const reference = new Map<number, [number, number, boolean]>();
      let next = 1;
      for (let step = 0; step < 200_000; step++) {
        const roll = random();
        if (roll < 0.5 || reference.size === 0) {
          const seq = next;
          next += stride;
          const priority = seq % 3 === 0 ? 2_000_000_000 : seq % 10;
          map.set(seq, priority, 100 + seq);
          reference.set(seq, [priority, 100 + seq, false]);
        } else if (roll < 0.6) {
          // An ack: the lease stays, marked.
          const seq = firstKeys(reference, 3).at(-1)!;
          map.markAckedAt(map.slotOf(seq));
          reference.get(seq)![2] = true;
        } else {
          // Mostly the oldest (acks come in order), sometimes any, sometimes one not there.
          const keys = firstKeys(reference, 8);
          const seq = roll < 0.9 ? keys[0]! : roll < 0.98 ? keys[keys.length - 1]! : next + 7;
          assert.equal(map.delete(seq), reference.delete(seq), `delete ${seq} at step ${step}`);
        }
        if (step % 2_003 === 0) {
          assert.equal(map.size, reference.size);
          for (const [seq, value] of reference) assert.deepEqual(leaseAt(map, seq), value);
          if (step % 20_030 === 0) map.trim();
        }
      }
      for (const seq of [...reference.keys()]) assert.ok(map.delete(seq));
      assert.equal(map.size, 0);
      assert.equal(map.has(1), false);
    });
  }
});

Deno.test("LeaseMap grows past half full, keeps its size through deletes, trims, keeps every entry", () => {
  const map = new LeaseMap();
  for (let seq = 1; seq <= 10_000; seq++) map.set(seq, seq % 7, seq * 2);
  assert.equal(map.size, 10_000);
  assert.equal(map.capacity, 32_768, "the first power of two at least twice the size");
  for (let seq = 1; seq <= 9_990; seq++) assert.ok(map.delete(seq));
  assert.equal(map.capacity, 32_768, "a delete does not rebuild the table");
  map.trim();
  assert.equal(map.capacity, 64, "halved while less than an eighth full");
  map.trim();
  assert.equal(map.capacity, 64);
  for (let seq = 9_991; seq <= 10_000; seq++) {
    assert.deepEqual(leaseAt(map, seq), [seq % 7, seq * 2, false]);
  }
  assert.equal(map.slotOf(5), -1);
  assert.equal(map.has(10_001), false);
  for (let seq = 9_991; seq <= 10_000; seq++) assert.ok(map.delete(seq));
  map.trim();
  assert.equal(map.capacity, 16, "never below the minimum");
});

Deno.test("LeaseMap leases a seq set twice anew, and refuses a seq that is not one", () => {
  const map = new LeaseMap();
  map.set(7, 1, 10);
  map.markAckedAt(map.slotOf(7));
  map.set(7, 2, 20);
  assert.equal(map.size, 1);
  assert.deepEqual(leaseAt(map, 7), [2, 20, false]);
  for (const bad of [0, -1, 1.5, NaN, 2 ** 53]) {
    assert.throws(() => map.set(bad, 0, 1), /Cannot lease seq/);
  }
  assert.equal(map.has(0), false, "0 marks an empty slot, never a seq");
  assert.equal(map.delete(0), false);
});
