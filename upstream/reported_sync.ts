/**
 * Reported properties synced up: patches for one identity are merged while they wait, sent as one
 * PATCH when its connection is up, and retried with back-off until the parent accepts them. A
 * patch the parent refuses as malformed (4xx other than 429) is dropped and logged, not retried
 * forever.
 */
import type { Logger } from "../core/log.ts";
import type { PoolEntry } from "./connection_pool.ts";
import { mergeReportedPatches, type TwinPatch } from "./reported_patch.ts";
import { type BackoffOptions, reconnectDelayMs } from "./reconnect_backoff.ts";
import { TwinRequestError } from "./twin_requests.ts";
import { identityKey, identityLabel, type IdentityRef } from "../iothub/mod.ts";

/** Options of {@linkcode createReportedSync}. */
export interface ReportedSyncOptions {
  connectionOf: (identity: IdentityRef) => PoolEntry;
  backoff: BackoffOptions;
  logger: Logger;
  /** How long a first patch waits for others to join it (default 50 ms). */
  batchDelayMs?: number;
}

/** The reported-properties sync. */
export interface ReportedSync {
  /** Queues `patch`; resolves true once the parent accepted it, false if dropped or stopped. */
  patch(identity: IdentityRef, patch: TwinPatch): Promise<boolean>;
  /** `identity`'s connection came up: send what waits. */
  connectionUp(identity: IdentityRef): void;
  /** Whether patches of `identity` wait. */
  hasWork(identity: IdentityRef): boolean;
  /** Patches waiting, over all identities. */
  pending(): number;
  /** Patches the parent accepted, and patches it refused (dropped). */
  counters(): { sent: number; refused: number };
  stop(): void;
}

interface Batch {
  patch: TwinPatch;
  waiters: ((accepted: boolean) => void)[];
}

interface Queue {
  identity: IdentityRef;
  batches: Batch[];
  sending: boolean;
  failures: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The sync: one queue of merged batches per identity. */
class ReportedPropertiesSync implements ReportedSync {
  readonly #options: ReportedSyncOptions;
  readonly #queues = new Map<string, Queue>();
  readonly #counters = { sent: 0, refused: 0 };
  #stopped = false;

  constructor(options: ReportedSyncOptions) {
    this.#options = options;
  }

  patch(identity: IdentityRef, patch: TwinPatch): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    const key = identityKey(identity);
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = { identity, batches: [], sending: false, failures: 0, timer: undefined };
      this.#queues.set(key, queue);
    }
    const q = queue;
    return new Promise<boolean>((resolve) => {
      // The first batch may be on the wire; merge only into batches not yet sent.
      const last = q.batches.length > (q.sending ? 1 : 0) ? q.batches.at(-1) : undefined;
      const merged = last ? mergeReportedPatches(last.patch, patch) : undefined;
      if (last && merged) {
        last.patch = merged;
        last.waiters.push(resolve);
      } else {
        q.batches.push({ patch: structuredClone(patch), waiters: [resolve] });
      }
      this.#later(q, this.#options.batchDelayMs ?? 50);
    });
  }

  connectionUp(identity: IdentityRef): void {
    const queue = this.#queues.get(identityKey(identity));
    if (!queue) return;
    clearTimeout(queue.timer);
    queue.timer = undefined;
    this.#send(queue);
  }

  hasWork(identity: IdentityRef): boolean {
    return this.#queues.has(identityKey(identity));
  }

  pending(): number {
    let count = 0;
    for (const queue of this.#queues.values()) count += queue.batches.length;
    return count;
  }

  counters(): { sent: number; refused: number } {
    return { ...this.#counters };
  }

  stop(): void {
    this.#stopped = true;
    for (const queue of this.#queues.values()) {
      clearTimeout(queue.timer);
      for (const batch of queue.batches) for (const waiter of batch.waiters) waiter(false);
    }
    this.#queues.clear();
  }

  #later(queue: Queue, delayMs: number): void {
    if (queue.timer !== undefined || this.#stopped) return;
    queue.timer = setTimeout(() => {
      queue.timer = undefined;
      this.#send(queue);
    }, delayMs);
  }

  #finish(queue: Queue, accepted: boolean): void {
    const batch = queue.batches.shift();
    for (const waiter of batch?.waiters ?? []) waiter(accepted);
  }

  #send(queue: Queue): void {
    if (this.#stopped || queue.sending || queue.batches.length === 0) return;
    const entry = this.#options.connectionOf(queue.identity);
    if (!entry.connection.connected) return; // connectionUp() resumes.
    const batch = queue.batches[0]!;
    queue.sending = true;
    entry.twin.patchReported(batch.patch).then(() => {
      queue.failures = 0;
      this.#counters.sent++;
      this.#finish(queue, true);
    }, (error) => this.#failed(queue, error)).finally(() => {
      queue.sending = false;
      if (queue.batches.length === 0) this.#queues.delete(identityKey(queue.identity));
      else if (queue.failures === 0) this.#send(queue);
    });
  }

  /** A refusal (4xx other than 429) drops the batch; anything else retries with back-off. */
  #failed(queue: Queue, error: unknown): void {
    const label = identityLabel(queue.identity);
    const status = error instanceof TwinRequestError ? error.status : 0;
    if (status >= 400 && status < 500 && status !== 429) {
      this.#counters.refused++;
      this.#options.logger.error("the parent refused a reported patch; dropping it", {
        identity: label,
        status,
        error,
      });
      this.#finish(queue, false);
      return;
    }
    queue.failures++;
    this.#options.logger.warn("cannot send reported properties; retrying", {
      identity: label,
      error,
    });
    this.#later(queue, reconnectDelayMs(queue.failures, this.#options.backoff));
  }
}

/** Creates the sync. */
export function createReportedSync(options: ReportedSyncOptions): ReportedSync {
  return new ReportedPropertiesSync(options);
}
