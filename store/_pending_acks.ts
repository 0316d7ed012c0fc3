/**
 * Acked rows waiting for their delete, and when that delete is due. Private to store/.
 */
import type { EndpointState, RowKey } from "./_endpoint_state.ts";

/** Acked rows that are committed at the next turn rather than at the end of the ack window. */
const ACK_BATCH_ROWS = 1_000;

/**
 * The acks of the next ack commit: rows and the state of each one's endpoint (same index). They
 * are due once the oldest has waited the ack window, or a thousand wait; not with every commit
 * of enqueues: at a few messages per commit (5,000 msg/s offered) their deletes wrote about as
 * many pages (queue, bodies, expiry index) to the WAL again as the inserts did.
 */
export class PendingAcks {
  states: EndpointState[] = [];
  rows: RowKey[] = [];
  /** When the oldest pending ack is due (performance.now() ms). */
  #dueMs = Infinity;
  readonly #windowMs: number;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  get length(): number {
    return this.rows.length;
  }

  /**
   * Adds one; true when that moved the due time (the first ack, or a full batch), so the
   * commit must be scheduled again: most acks of a stream need no timer call.
   */
  add(state: EndpointState, row: RowKey): boolean {
    this.states.push(state);
    this.rows.push(row);
    if (this.rows.length === 1) {
      this.#dueMs = performance.now() + this.#windowMs;
      return true;
    }
    if (this.rows.length < ACK_BATCH_ROWS) return false;
    this.#dueMs = 0;
    return true;
  }

  /** Milliseconds until the acks are due (0: now); Infinity with none. */
  dueInMs(): number {
    return this.rows.length === 0 ? Infinity : Math.max(0, this.#dueMs - performance.now());
  }

  /** Hands the pending acks over and starts empty. */
  takeAll(): { states: EndpointState[]; rows: RowKey[] } {
    const taken = { states: this.states, rows: this.rows };
    this.states = [];
    this.rows = [];
    this.#dueMs = Infinity;
    return taken;
  }

  /** Puts acks whose commit failed back in front, due again in `retryMs`. */
  putBack(states: EndpointState[], rows: RowKey[], retryMs: number): void {
    this.states = states.concat(this.states);
    this.rows = rows.concat(this.rows);
    this.#dueMs = performance.now() + retryMs;
  }
}
