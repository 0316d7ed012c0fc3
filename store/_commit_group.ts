/**
 * The enqueues that share one commit: their SQL parameters laid out flat for the multi-row
 * inserts, the queue rows they become, and one promise that all of them return. Private to
 * store/.
 */
import type { SQLInputValue } from "node:sqlite";
import type { Logger } from "../core/log.ts";
import { describe } from "./_describe.ts";
import type { EndpointState, QueuedRow } from "./_endpoint_state.ts";

/** Enqueues committed together; settled (resolved or rejected) together. */
export class CommitGroup {
  /** What every enqueue of the group returns. */
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /**
   * seq, refs, properties, body (or its reference when logged), logged (the body log segment) of
   * each message.
   */
  readonly messageParams: SQLInputValue[] = [];
  /** endpoint, priority, seq, size, enqueued_at, expires_at of each queue row. */
  readonly queueParams: SQLInputValue[] = [];
  /** The queue rows, and the state of each one's endpoint (same index). */
  readonly rows: QueuedRow[] = [];
  readonly states: EndpointState[] = [];
  messages = 0;
  /** Message bytes (body plus properties), counted once per message. */
  bytes = 0;
  /** The body log's position after the group's last logged body; 0 with none. */
  logEnd = 0;
  /** Takes no more enqueues: a sync of the body log for it has begun. */
  sealed = false;
  /** The highest seq in the group. */
  lastSeq = 0;

  constructor() {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.promise = promise;
    this.resolve = resolve;
    this.reject = reject;
    // A group may be rejected after its callers stopped waiting (close): not unhandled.
    promise.catch(() => {});
  }

  /**
   * Rejects every enqueue of the group because `what` failed (e.g. "commit to <file>"), and logs
   * it: the senders get no PUBACK and send again.
   */
  fail(log: Logger, what: string, error: unknown): void {
    log.error(`${what} failed; enqueues rejected`, {
      messages: this.messages,
      error: describe(error),
    });
    this.reject(new Error(`Cannot enqueue: ${what} failed: ${describe(error)}`, { cause: error }));
  }
}
