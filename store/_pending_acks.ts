/**
 * Acked rows waiting for their delete, and when that delete is due. Private to store/.
 */
import { type AckedRows, type EndpointState, noAckedRows } from "./_endpoint_state.ts";

/** Acked rows that are committed at the next turn rather than at the end of the ack window. */
const ACK_BATCH_ROWS = 1_000;

/**
 * The acks of the next ack commit: rows and the state of each one's endpoint (same index). They
 * are due once the oldest has waited the ack window, or a thousand wait; not with every commit
 * of enqueues: at a few messages per commit (5,000 msg/s offered) their deletes wrote about as
 * many pages (queue, bodies, expiry index) to the WAL again as the inserts did.
 */
export class PendingAcks {
  #rows: AckedRows = noAckedRows();
  /** When the oldest pending ack is due (performance.now() ms). */
  #dueMs = Infinity;
  readonly #windowMs: number;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  get length(): number {
    return this.#rows.seqs.length;
  }

  /**
   * Adds one; true when that moved the due time (the first ack, or a full batch), so the
   * commit must be scheduled again: most acks of a stream need no timer call.
   */
  add(state: EndpointState, priority: number, seq: number): boolean {
    const rows = this.#rows;
    rows.states.push(state);
    rows.priorities.push(priority);
    const length = rows.seqs.push(seq);
    if (length === 1) {
      this.#dueMs = performance.now() + this.#windowMs;
      return true;
    }
    if (length < ACK_BATCH_ROWS) return false;
    this.#dueMs = 0;
    return true;
  }

  /** Milliseconds until the acks are due (0: now); Infinity with none. */
  dueInMs(): number {
    return this.length === 0 ? Infinity : Math.max(0, this.#dueMs - performance.now());
  }

  /** Hands the pending acks over and starts empty. */
  takeAll(): AckedRows {
    const taken = this.#rows;
    this.#rows = noAckedRows();
    this.#dueMs = Infinity;
    return taken;
  }

  /** Puts acks whose commit failed back in front, due again in `retryMs`. */
  putBack(rows: AckedRows, retryMs: number): void {
    const later = this.#rows;
    this.#rows = {
      states: rows.states.concat(later.states),
      priorities: rows.priorities.concat(later.priorities),
      seqs: rows.seqs.concat(later.seqs),
    };
    this.#dueMs = performance.now() + retryMs;
  }
}
