/**
 * What the store keeps in memory per endpoint queue: totals and the leases of in-flight messages.
 * Nothing here grows with the number of queued messages. Private to hub/store.
 */

/** A message handed out by `take` and not yet acked or released. */
export interface Lease {
  priority: number;
  sizeBytes: number;
  /** Acked, and its delete waits for the next commit; `take` still skips it. */
  acked: boolean;
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
  droppedExpired: number;
  droppedFull: number;
  /** Whether the last enqueue was refused (the refusal is logged once per episode). */
  full: boolean;
  /** In-flight messages by seq. */
  readonly leases: Map<number, Lease>;
  /**
   * Delivery position `take` continues after: (priority, seq) of the last row it handed out or
   * stepped over. Every deliverable row not leased lies after it; a row that becomes
   * deliverable before it (a release, a commit of a more urgent message) moves it back.
   */
  afterPriority: number;
  afterSeq: number;
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
    droppedFull: 0,
    full: false,
    leases: new Map(),
    afterPriority: -1,
    afterSeq: 0,
  };
}
