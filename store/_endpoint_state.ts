/**
 * What the store keeps in memory per endpoint queue: totals, the leases of in-flight messages,
 * and (bounded) the messages committed in this run that wait for delivery. Private to store/.
 */
import type { QueuedMessage } from "./store_types.ts";
import { LeaseMap } from "./_lease_map.ts";

/**
 * One message in one endpoint queue, as the store keeps it in memory: made once (at enqueue, or
 * when read from the file), held in the endpoint's `ready` list, and it is the very object `take`
 * returns; from then on the store keeps only its lease (in the endpoint's {@linkcode LeaseMap}).
 */
export interface QueuedRow extends QueuedMessage {
  /** Bytes it counts against the queue bound (body plus encoded properties). */
  readonly sizeBytes: number;
}

/**
 * Queue rows whose delete is still to commit, flat (row i: `states[i]`, `priorities[i]`,
 * `seqs[i]`): an ack adds three numbers to arrays, no object (see {@linkcode LeaseMap}).
 */
export interface AckedRows {
  readonly states: EndpointState[];
  readonly priorities: number[];
  readonly seqs: number[];
}

/** An empty {@linkcode AckedRows}. */
export function noAckedRows(): AckedRows {
  return { states: [], priorities: [], seqs: [] };
}

/** One endpoint queue's totals and leases. */
export interface EndpointState {
  readonly id: number;
  readonly name: string;
  /** Committed messages not acked. */
  count: number;
  /** Bytes of committed messages not acked. */
  bytes: number;
  /** Bytes reserved by enqueues waiting for their commit. */
  pendingBytes: number;
  /** Messages dropped because their body was gone from the body log. */
  droppedLost: number;
  droppedExpired: number;
  droppedFull: number;
  /** Whether the last enqueue was refused (the refusal is logged once per episode). */
  full: boolean;
  /** In-flight messages by seq, and acked ones until their delete commits. */
  readonly leases: LeaseMap;
  /**
   * Delivery position `take` continues after: (priority, seq) of the last row it handed out or
   * stepped over. Every deliverable row not leased lies after it; a row that becomes
   * deliverable before it (a release, a commit of a more urgent message) moves it back.
   */
  afterPriority: number;
  afterSeq: number;
  /**
   * When not null: exactly the deliverable, unleased rows after the delivery position, in
   * delivery order (expired ones may linger until `take` steps over them). Null when unknown
   * (a backlog from before this run, a release, past the memory budget): `take` reads the file.
   */
  ready: QueuedRow[] | null;
  /** Body bytes held in `ready`. */
  readyBytes: number;
  /** No row of this queue expires before this (ms; Infinity: none does): the purge skips it. */
  expiryFloorMs: number;
  /**
   * Per priority, the latest expiry (Infinity: never) of the rows enqueued: while every row of a
   * priority expires no earlier than the rows before it (one TTL per queue, the usual case), its
   * expired rows are a prefix of the delivery order. Null once a row broke that order: the purge
   * then scans the queue's rows.
   */
  expiryOrder: Map<number, number> | null;
}

/** Body bytes of committed messages the store keeps in memory for `take`, over all endpoints. */
const READY_MAX_BYTES = 2 * 1024 * 1024;
/** Messages one endpoint keeps in memory for `take`; a consumer that far behind reads the file. */
const READY_MAX_ROWS = 1_000;

/** Body bytes the endpoints' `ready` lists hold in all. */
export interface ReadyBudget {
  readyBytes: number;
}

/**
 * A committed row of `state` goes into its `ready` list, unless the list is full or all the lists
 * hold too many bytes: then the list is dropped, and `take` reads the file.
 */
export function keepReady(state: EndpointState, row: QueuedRow, budget: ReadyBudget): void {
  if (state.ready === null) return;
  const bodyBytes = row.message.body.byteLength;
  if (state.ready.length >= READY_MAX_ROWS || budget.readyBytes + bodyBytes > READY_MAX_BYTES) {
    return dropReady(state, budget);
  }
  insertReady(state, row);
  budget.readyBytes += bodyBytes;
}

/** Forgets the messages `state` knows in memory: `take` reads the file again. */
export function dropReady(state: EndpointState, budget: ReadyBudget): void {
  budget.readyBytes -= state.readyBytes;
  state.readyBytes = 0;
  state.ready = null;
}

/** Compares delivery positions: priority, then seq. */
function before(a: QueuedRow, priority: number, seq: number): boolean {
  return a.priority < priority || (a.priority === priority && a.seq < seq);
}

/** Inserts `row` into `state.ready` in delivery order (usually at the end). */
function insertReady(state: EndpointState, row: QueuedRow): void {
  const ready = state.ready!;
  let low = ready.length;
  if (low > 0 && !before(ready[low - 1]!, row.priority, row.seq)) {
    low = 0;
    let high = ready.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (before(ready[middle]!, row.priority, row.seq)) low = middle + 1;
      else high = middle;
    }
  }
  if (low === ready.length) ready.push(row);
  else ready.splice(low, 0, row);
  state.readyBytes += row.message.body.byteLength;
}

/**
 * A row of `state` is committed: it counts in the queue's totals, lies after its delivery
 * position, and keeps its expiry floor at or below its expiry.
 */
export function countCommitted(state: EndpointState, row: QueuedRow): void {
  state.pendingBytes -= row.sizeBytes;
  state.count++;
  state.bytes += row.sizeBytes;
  rewindTo(state, row.priority, row.seq);
  const { expiresAtMs } = row;
  if (expiresAtMs !== null && expiresAtMs < state.expiryFloorMs) state.expiryFloorMs = expiresAtMs;
}

/**
 * The message of the lease in `slot` of `state.leases` is acked: it leaves the queue's totals;
 * the lease stays (`take` steps over the row) until the ack commit deletes the row.
 */
export function markAcked(state: EndpointState, slot: number): void {
  state.count--;
  state.bytes -= state.leases.sizeBytesAt(slot);
  state.leases.markAckedAt(slot);
}

/**
 * Gives up the lease of `seq` unless it is acked (or not leased): the row lies after the delivery
 * position again, for the next `take`. False when there was nothing to release.
 */
export function releaseLease(state: EndpointState, seq: number): boolean {
  const slot = state.leases.slotOf(seq);
  if (slot < 0 || state.leases.isAckedAt(slot)) return false;
  const priority = state.leases.priorityAt(slot);
  state.leases.delete(seq);
  rewindTo(state, priority, seq);
  return true;
}

/** Moves `state`'s delivery position back so that the row (priority, seq) lies after it. */
export function rewindTo(state: EndpointState, priority: number, seq: number): void {
  if (
    priority < state.afterPriority || (priority === state.afterPriority && seq <= state.afterSeq)
  ) {
    state.afterPriority = priority;
    state.afterSeq = seq - 1;
  }
}

/** A fresh, empty endpoint state. */
export function newEndpointState(id: number, name: string): EndpointState {
  return {
    id,
    name,
    count: 0,
    bytes: 0,
    pendingBytes: 0,
    droppedExpired: 0,
    droppedLost: 0,
    droppedFull: 0,
    full: false,
    leases: new LeaseMap(),
    afterPriority: -1,
    afterSeq: 0,
    ready: null,
    readyBytes: 0,
    expiryFloorMs: Infinity,
    expiryOrder: new Map(),
  };
}
