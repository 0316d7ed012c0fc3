/**
 * Checking the arguments of the store's calls, and merging targets that name one endpoint.
 * Private to store/.
 */
import type { EnqueueTarget } from "./store_types.ts";

/** Largest priority accepted (IoT Edge priorities are uint). */
export const MAX_PRIORITY = 4294967295;

/** Throws RangeError unless `value` is a positive safe integer. */
export function checkPositiveInteger(value: number, field: string, action: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Cannot ${action}: ${field} must be a positive integer, got ${value}`);
  }
}

/** Throws TypeError unless `seqs` is an integer or an array of integers. */
export function checkSeqs(seqs: readonly number[] | number, action: string): void {
  if (typeof seqs === "number") {
    if (Number.isSafeInteger(seqs)) return;
    throw new TypeError(`Cannot ${action}: seq ${String(seqs)} is not an integer`);
  }
  if (!Array.isArray(seqs)) throw new TypeError(`Cannot ${action}: seqs must be an array`);
  for (const seq of seqs) {
    if (!Number.isSafeInteger(seq)) {
      throw new TypeError(`Cannot ${action}: seq ${String(seq)} is not an integer`);
    }
  }
}

/** Throws TypeError/RangeError naming the bad field of `target`. */
function checkTarget(target: EnqueueTarget): void {
  if (typeof target?.endpoint !== "string" || target.endpoint === "") {
    throw new TypeError("Cannot enqueue: target endpoint must be a non-empty string");
  }
  const { endpoint, priority, ttlSeconds } = target;
  if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
    throw new RangeError(
      `Cannot enqueue to ${endpoint}: priority must be an integer 0\u2013${MAX_PRIORITY}, got ${priority}`,
    );
  }
  if (typeof ttlSeconds !== "number" || Number.isNaN(ttlSeconds)) {
    throw new RangeError(
      `Cannot enqueue to ${endpoint}: ttlSeconds must be a number, got ${ttlSeconds}`,
    );
  }
}

/**
 * Checks `targets` and merges those naming the same endpoint: the higher priority and the longer
 * TTL win. A single target (the usual case) is returned as it is, read-only.
 */
export function mergeTargets(targets: readonly EnqueueTarget[]): readonly EnqueueTarget[] {
  if (targets.length === 1) {
    checkTarget(targets[0]!);
    return targets;
  }
  const byEndpoint = new Map<string, EnqueueTarget>();
  for (const target of targets) {
    checkTarget(target);
    const { endpoint, priority, ttlSeconds } = target;
    const seen = byEndpoint.get(endpoint);
    if (!seen) {
      byEndpoint.set(endpoint, { endpoint, priority, ttlSeconds });
      continue;
    }
    const forever = seen.ttlSeconds < 0 || ttlSeconds < 0;
    byEndpoint.set(endpoint, {
      endpoint,
      priority: Math.min(seen.priority, priority),
      ttlSeconds: forever ? -1 : Math.max(seen.ttlSeconds, ttlSeconds),
    });
  }
  return [...byEndpoint.values()];
}
