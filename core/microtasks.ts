/**
 * Work deferred by microtask levels, and the level at which a turn's writes leave.
 *
 * Microtasks run first in, first out, so a task queued from a microtask runs after every task
 * queued before it. `afterMicrotasks(n, run)` called now therefore runs after everything that the
 * code before it set going up to `n - 1` levels deep: a store listener's pump (one level), the
 * packets it and the resolved promises of this turn write, batched by a transport at
 * {@linkcode WRITE_LEVELS}.
 *
 * @module
 */

/**
 * Levels of microtasks a transport waits before it writes what this turn queued for it, so one
 * turn's packets (the PUBACKs of a group commit, a burst of deliveries) leave in one write.
 */
export const WRITE_LEVELS = 2;

/** Runs `run` after `levels` levels of microtasks (0: at once). */
export function afterMicrotasks(levels: number, run: () => void): void {
  if (levels <= 0) return run();
  queueMicrotask(() => afterMicrotasks(levels - 1, run));
}
