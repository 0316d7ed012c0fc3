/**
 * An endpoint's leases by seq: a hash table of its own instead of a `Map`. Leases come and go in
 * a stream (taken, acked, deleted at the ack commit ~20 ms later), and V8's `Map` rebuilds its
 * table whenever its deleted entries fill it, and again when it shrinks: at 5,000 msg/s those
 * tables were ~100 B per message surviving the young generation (V8's sampling heap profiler),
 * growing the old generation that the mark-compacts collect. This table reuses its slots: open
 * addressing with linear probing, and a delete that shifts the entries after it back, so no
 * tombstone is ever left. A lease is not an object either: its priority, size and acked flag lie
 * in typed arrays beside its seq (a lease object per message lived through the ack window and
 * was ~73 of the 136 B per message that outlived the young generation at saturation). Nor does it
 * hold the message, which is the taker's (a release reads it from the file again): held for the
 * round trip and the ack window, a 16 KiB body was promoted and kept until a mark-compact (V8
 * worker-thread CPU 30-45 -> 9-15 us per message once it was not).
 * It grows at half full and never shrinks on a delete: the count of leases swings with every
 * burst of deliveries and acks (a window of 2,000 in flight emptied by one ack commit), and a
 * table that shrank at an eighth rebuilt itself every few hundred messages, ~165 B per message
 * of new tables at saturation. The store's maintenance tick {@linkcode LeaseMap.trim}s it
 * instead. Private to store/.
 */

const MIN_CAPACITY = 16;
/** Fibonacci hashing: seqs interleaved across endpoints (a stride of 4, say) still spread. */
const GOLDEN = 0x9e3779b1;

/**
 * Leases by positive integer seq. Reading one goes through its slot ({@linkcode slotOf}), which
 * stays valid until the next `set`, `delete` or `trim`.
 */
export class LeaseMap {
  /** 0: an empty slot (a seq is at least 1). */
  #keys: Float64Array;
  #priorities: Float64Array;
  #sizes: Float64Array;
  #acked: Uint8Array;
  #shift: number;
  #size = 0;

  constructor() {
    this.#keys = new Float64Array(MIN_CAPACITY);
    this.#priorities = new Float64Array(MIN_CAPACITY);
    this.#sizes = new Float64Array(MIN_CAPACITY);
    this.#acked = new Uint8Array(MIN_CAPACITY);
    this.#shift = 32 - Math.log2(MIN_CAPACITY);
  }

  get size(): number {
    return this.#size;
  }

  has(seq: number): boolean {
    return this.#find(seq) >= 0;
  }

  /** The slot of `seq`'s lease, -1 when it is not leased. */
  slotOf(seq: number): number {
    return this.#find(seq);
  }

  priorityAt(slot: number): number {
    return this.#priorities[slot]!;
  }

  /** Bytes the leased row counts against its queue. */
  sizeBytesAt(slot: number): number {
    return this.#sizes[slot]!;
  }

  isAckedAt(slot: number): boolean {
    return this.#acked[slot] === 1;
  }

  /** The lease's message is acked: the lease stays until the ack commit deletes the row. */
  markAckedAt(slot: number): void {
    this.#acked[slot] = 1;
  }

  /**
   * Leases `seq` (not acked), or leases it again with these values.
   * @throws {RangeError} unless `seq` is a positive integer
   */
  set(seq: number, priority: number, sizeBytes: number): this {
    if (!(Number.isSafeInteger(seq) && seq > 0)) {
      throw new RangeError(`Cannot lease seq ${seq}: not a positive integer`);
    }
    const mask = this.#keys.length - 1;
    let slot = this.#home(seq);
    for (;;) {
      const key = this.#keys[slot]!;
      if (key === seq || key === 0) break;
      slot = (slot + 1) & mask;
    }
    if (this.#keys[slot] === 0) this.#size++;
    this.#keys[slot] = seq;
    this.#priorities[slot] = priority;
    this.#sizes[slot] = sizeBytes;
    this.#acked[slot] = 0;
    if (this.#size > this.#keys.length >> 1) this.#resize(this.#keys.length << 1);
    return this;
  }

  delete(seq: number): boolean {
    let slot = this.#find(seq);
    if (slot < 0) return false;
    const keys = this.#keys;
    const mask = keys.length - 1;
    // Backward shift: an entry after the hole moves into it unless its home lies in between.
    for (let next = (slot + 1) & mask; keys[next] !== 0; next = (next + 1) & mask) {
      const home = this.#home(keys[next]!);
      const between = slot <= next ? slot < home && home <= next : slot < home || home <= next;
      if (between) continue;
      this.#move(next, slot);
      slot = next;
    }
    keys[slot] = 0;
    this.#size--;
    return true;
  }

  /** Slots in the table (a power of two, at least twice the size). */
  get capacity(): number {
    return this.#keys.length;
  }

  /**
   * Halves the table while it is less than an eighth full (not below its minimum): after a peak,
   * the slots it no longer needs go back.
   */
  trim(): void {
    let capacity = this.#keys.length;
    if (capacity <= MIN_CAPACITY || this.#size >= capacity >> 3) return;
    while (capacity > MIN_CAPACITY && this.#size < capacity >> 3) capacity >>= 1;
    this.#resize(capacity);
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

  #move(from: number, to: number): void {
    this.#keys[to] = this.#keys[from]!;
    this.#priorities[to] = this.#priorities[from]!;
    this.#sizes[to] = this.#sizes[from]!;
    this.#acked[to] = this.#acked[from]!;
  }

  #resize(capacity: number): void {
    const keys = this.#keys;
    const priorities = this.#priorities;
    const sizes = this.#sizes;
    const acked = this.#acked;
    this.#keys = new Float64Array(capacity);
    this.#priorities = new Float64Array(capacity);
    this.#sizes = new Float64Array(capacity);
    this.#acked = new Uint8Array(capacity);
    this.#shift = 32 - Math.log2(capacity);
    const mask = capacity - 1;
    for (let old = 0; old < keys.length; old++) {
      const seq = keys[old]!;
      if (seq === 0) continue;
      let slot = this.#home(seq);
      while (this.#keys[slot] !== 0) slot = (slot + 1) & mask;
      this.#keys[slot] = seq;
      this.#priorities[slot] = priorities[old]!;
      this.#sizes[slot] = sizes[old]!;
      this.#acked[slot] = acked[old]!;
    }
  }
}
