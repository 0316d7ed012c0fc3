/**
 * An endpoint's leases by seq: a hash table of its own instead of a `Map`. Leases come and go in
 * a stream (taken, acked, deleted at the ack commit ~20 ms later), and V8's `Map` rebuilds its
 * table whenever its deleted entries fill it, and again when it shrinks: at 5,000 msg/s those
 * tables were ~100 B per message surviving the young generation (V8's sampling heap profiler),
 * growing the old generation that the mark-compacts collect. This table reuses its slots: open
 * addressing with linear probing, and a delete that shifts the entries after it back, so no
 * tombstone is ever left. It grows at half full and shrinks at an eighth, so a size that moves
 * back and forth does not rebuild it. Private to store/.
 */

const MIN_CAPACITY = 16;
/** Fibonacci hashing: seqs interleaved across endpoints (a stride of 4, say) still spread. */
const GOLDEN = 0x9e3779b1;

/** Values by positive integer seq. */
export class LeaseMap<V> {
  /** 0: an empty slot (a seq is at least 1). */
  #keys: Float64Array;
  #values: (V | undefined)[];
  #shift: number;
  #size = 0;

  constructor() {
    this.#keys = new Float64Array(MIN_CAPACITY);
    this.#values = new Array(MIN_CAPACITY).fill(undefined);
    this.#shift = 32 - Math.log2(MIN_CAPACITY);
  }

  get size(): number {
    return this.#size;
  }

  has(seq: number): boolean {
    return this.#find(seq) >= 0;
  }

  get(seq: number): V | undefined {
    const slot = this.#find(seq);
    return slot < 0 ? undefined : this.#values[slot];
  }

  /** @throws {RangeError} unless `seq` is a positive integer */
  set(seq: number, value: V): this {
    if (!(Number.isSafeInteger(seq) && seq > 0)) {
      throw new RangeError(`Cannot lease seq ${seq}: not a positive integer`);
    }
    const mask = this.#keys.length - 1;
    let slot = this.#home(seq);
    for (;;) {
      const key = this.#keys[slot]!;
      if (key === seq) {
        this.#values[slot] = value;
        return this;
      }
      if (key === 0) break;
      slot = (slot + 1) & mask;
    }
    this.#keys[slot] = seq;
    this.#values[slot] = value;
    if (++this.#size > this.#keys.length >> 1) this.#resize(this.#keys.length << 1);
    return this;
  }

  delete(seq: number): boolean {
    let slot = this.#find(seq);
    if (slot < 0) return false;
    const keys = this.#keys;
    const values = this.#values;
    const mask = keys.length - 1;
    // Backward shift: an entry after the hole moves into it unless its home lies in between.
    for (let next = (slot + 1) & mask; keys[next] !== 0; next = (next + 1) & mask) {
      const home = this.#home(keys[next]!);
      const between = slot <= next ? slot < home && home <= next : slot < home || home <= next;
      if (between) continue;
      keys[slot] = keys[next]!;
      values[slot] = values[next];
      slot = next;
    }
    keys[slot] = 0;
    values[slot] = undefined;
    this.#size--;
    if (keys.length > MIN_CAPACITY && this.#size < keys.length >> 3) {
      this.#resize(keys.length >> 1);
    }
    return true;
  }

  #home(seq: number): number {
    // The low 32 bits mixed with the high ones: seqs stay below 2^53.
    return Math.imul((seq | 0) ^ ((seq / 0x100000000) | 0), GOLDEN) >>> this.#shift;
  }

  #find(seq: number): number {
    const keys = this.#keys;
    const mask = keys.length - 1;
    for (let slot = this.#home(seq);; slot = (slot + 1) & mask) {
      const key = keys[slot]!;
      if (key === 0) return -1;
      if (key === seq) return slot;
    }
  }

  #resize(capacity: number): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#keys = new Float64Array(capacity);
    this.#values = new Array(capacity).fill(undefined);
    this.#shift = 32 - Math.log2(capacity);
    this.#size = 0;
    for (let slot = 0; slot < keys.length; slot++) {
      if (keys[slot] !== 0) this.set(keys[slot]!, values[slot] as V);
    }
  }
}
