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

/** Creates the sync. */
export function createReportedSync(options: ReportedSyncOptions): ReportedSync {
  const queues = new Map<string, Queue>();
  const counters = { sent: 0, refused: 0 };
  let stopped = false;

  function later(queue: Queue, delayMs: number): void {
    if (queue.timer !== undefined || stopped) return;
    queue.timer = setTimeout(() => {
      queue.timer = undefined;
      send(queue);
    }, delayMs);
  }

  function finish(queue: Queue, accepted: boolean): void {
    const batch = queue.batches.shift();
    for (const waiter of batch?.waiters ?? []) waiter(accepted);
  }

  function send(queue: Queue): void {
    if (stopped || queue.sending || queue.batches.length === 0) return;
    const entry = options.connectionOf(queue.identity);
    if (!entry.connection.connected) return; // connectionUp() resumes.
    const batch = queue.batches[0]!;
    queue.sending = true;
    const label = identityLabel(queue.identity);
    entry.twin.patchReported(batch.patch).then(() => {
      queue.failures = 0;
      counters.sent++;
      finish(queue, true);
    }, (error) => {
      const status = error instanceof TwinRequestError ? error.status : 0;
      if (status >= 400 && status < 500 && status !== 429) {
        counters.refused++;
        options.logger.error("the parent refused a reported patch; dropping it", {
          identity: label,
          status,
          error,
        });
        finish(queue, false);
        return;
      }
      queue.failures++;
      options.logger.warn("cannot send reported properties; retrying", { identity: label, error });
      later(queue, reconnectDelayMs(queue.failures, options.backoff));
    }).finally(() => {
      queue.sending = false;
      if (queue.batches.length === 0) queues.delete(identityKey(queue.identity));
      else if (queue.failures === 0) send(queue);
    });
  }

  return {
    patch(identity, patch) {
      if (stopped) return Promise.resolve(false);
      const key = identityKey(identity);
      let queue = queues.get(key);
      if (!queue) {
        queue = { identity, batches: [], sending: false, failures: 0, timer: undefined };
        queues.set(key, queue);
      }
      return new Promise<boolean>((resolve) => {
        const q = queue!;
        // The first batch may be on the wire; merge only into batches not yet sent.
        const last = q.batches.length > (q.sending ? 1 : 0) ? q.batches.at(-1) : undefined;
        const merged = last ? mergeReportedPatches(last.patch, patch) : undefined;
        if (last && merged) {
          last.patch = merged;
          last.waiters.push(resolve);
        } else {
          q.batches.push({ patch: structuredClone(patch), waiters: [resolve] });
        }
        later(q, options.batchDelayMs ?? 50);
      });
    },
    connectionUp(identity) {
      const queue = queues.get(identityKey(identity));
      if (!queue) return;
      clearTimeout(queue.timer);
      queue.timer = undefined;
      send(queue);
    },
    hasWork(identity) {
      return queues.has(identityKey(identity));
    },
    pending() {
      let count = 0;
      for (const queue of queues.values()) count += queue.batches.length;
      return count;
    },
    counters: () => ({ ...counters }),
    stop() {
      stopped = true;
      for (const queue of queues.values()) {
        clearTimeout(queue.timer);
        for (const batch of queue.batches) for (const waiter of batch.waiters) waiter(false);
      }
      queues.clear();
    },
  };
}
