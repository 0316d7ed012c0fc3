/** The error `enqueue` rejects with when an endpoint queue has no room for a message. */

/**
 * An endpoint queue is at its byte bound; the message was written to none of its targets.
 *
 * @example
 * ```ts
 * try {
 *   await store.enqueue(message, targets);
 * } catch (error) {
 *   if (error instanceof StoreFullError) console.warn(`${error.endpoint} is full`);
 * }
 * ```
 */
export class StoreFullError extends Error {
  /** Always "StoreFullError". */
  override name = "StoreFullError";
  /** The endpoint whose queue is full. */
  readonly endpoint: string;
  /** Bytes held in that queue (committed plus being committed) when the message was refused. */
  readonly queuedBytes: number;
  /** The queue's bound. */
  readonly maxSizeBytes: number;

  /** Builds the error for `endpoint` holding `queuedBytes` of `maxSizeBytes`. */
  constructor(endpoint: string, queuedBytes: number, maxSizeBytes: number) {
    super(`Cannot enqueue to ${endpoint}: queue full (${queuedBytes} of ${maxSizeBytes} bytes)`);
    this.endpoint = endpoint;
    this.queuedBytes = queuedBytes;
    this.maxSizeBytes = maxSizeBytes;
  }
}
