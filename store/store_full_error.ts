/** The error `enqueue` rejects with when a queue, or the disk under the store, has no room. */

/**
 * An endpoint queue is at its byte bound, or the store's file system is down to the free space
 * the store keeps for acks and checkpoints (`reason: "disk"`); the message was written to none
 * of its targets.
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
  /** The endpoint whose queue is full (with `reason: "disk"`, the first target). */
  readonly endpoint: string;
  /** Bytes held in that queue (committed plus being committed) when the message was refused. */
  readonly queuedBytes: number;
  /** The queue's bound. */
  readonly maxSizeBytes: number;
  /** `queue`: the endpoint's bound; `disk`: the file system's free space. */
  readonly reason: "queue" | "disk";

  /** Builds the error for `endpoint` holding `queuedBytes` of `maxSizeBytes`. */
  constructor(
    endpoint: string,
    queuedBytes: number,
    maxSizeBytes: number,
    disk?: { freeBytes: number; minFreeBytes: number },
  ) {
    super(
      disk
        ? `Cannot enqueue to ${endpoint}: the disk is nearly full (${
          Math.max(0, Math.floor(disk.freeBytes))
        } bytes free, the store keeps ${disk.minFreeBytes} free for acks); free disk space ` +
          "or let consumers drain their queues"
        : `Cannot enqueue to ${endpoint}: queue full (${queuedBytes} of ${maxSizeBytes} bytes)`,
    );
    this.endpoint = endpoint;
    this.queuedBytes = queuedBytes;
    this.maxSizeBytes = maxSizeBytes;
    this.reason = disk ? "disk" : "queue";
  }
}
