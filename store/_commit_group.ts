/**
 * The enqueues that share one commit: their SQL parameters laid out flat for the multi-row
 * inserts, the queue rows they become, and one promise that all of them return. Private to
 * store/.
 */
import type { SQLInputValue } from "node:sqlite";
import type { Logger } from "../core/log.ts";
import { describe } from "./_describe.ts";
import {
  countCommitted,
  type EndpointState,
  keepReady,
  type QueuedRow,
  type ReadyBudget,
} from "./_endpoint_state.ts";
import { noteExpiry } from "./_expiry.ts";
import type { EncodedMessage } from "./_message_codec.ts";
import type { EnqueueTarget } from "./store_types.ts";

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
   * Adds message `seq`, its body `stored` in the row or, with a body log `segment`, a reference
   * to it there, and its queue rows for `targets` (`states`: each one's endpoint, same index);
   * counts them as pending in their endpoints. Positional: this runs once per enqueue.
   */
  add(
    seq: number,
    encoded: EncodedMessage,
    stored: Uint8Array,
    segment: number | null,
    targets: readonly EnqueueTarget[],
    states: readonly EndpointState[],
    enqueuedAtMs: number,
  ): void {
    const { message, sizeBytes } = encoded;
    this.messageParams.push(seq, targets.length, encoded.properties, stored, segment);
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      const state = states[i]!;
      const expiresAtMs = target.ttlSeconds < 0 ? null : enqueuedAtMs + target.ttlSeconds * 1000;
      state.pendingBytes += sizeBytes;
      noteExpiry(state, target.priority, expiresAtMs);
      this.queueParams.push(state.id, target.priority, seq, sizeBytes, enqueuedAtMs, expiresAtMs);
      this.states.push(state);
      this.rows.push({
        endpoint: state.name,
        seq,
        priority: target.priority,
        enqueuedAtMs,
        expiresAtMs,
        message,
        sizeBytes,
      });
    }
    this.messages++;
    this.bytes += sizeBytes;
    this.lastSeq = seq;
  }

  /**
   * Counts the group's rows in their queues (it is committed), keeps them ready in memory within
   * `budget`, and returns the queues they are in.
   */
  countCommitted(budget: ReadyBudget): Set<EndpointState> {
    const touched = new Set<EndpointState>();
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i]!;
      const state = this.states[i]!;
      countCommitted(state, row);
      touched.add(state);
      keepReady(state, row, budget);
    }
    return touched;
  }

  /** Takes the group's rows out of their endpoints' pending bytes (its commit failed). */
  uncountPending(): void {
    for (let i = 0; i < this.rows.length; i++) {
      this.states[i]!.pendingBytes -= this.rows[i]!.sizeBytes;
    }
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
