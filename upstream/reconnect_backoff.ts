/** How long the upstream connector waits before its next connection attempt. */

/** Options of {@linkcode reconnectDelayMs}. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  baseMs: number;
  /** Cap of the delay, before jitter. */
  maxMs: number;
  /** A number in [0, 1), for tests; defaults to `Math.random`. */
  random?: () => number;
}

/**
 * The delay before attempt number `failures + 1`: `min(maxMs, baseMs * 2^(failures - 1))`, of
 * which the upper half is random ("equal jitter"). Half the delay is always waited, so a parent
 * that refuses at once never turns the connector into a busy loop, and the random half keeps a
 * fleet of children from reconnecting in step after the parent restarts.
 *
 * @param failures consecutive failed attempts so far (1 after the first failure).
 * @example
 * ```ts
 * reconnectDelayMs(3, { baseMs: 1000, maxMs: 60_000, random: () => 0 }); // 2000
 * ```
 */
export function reconnectDelayMs(failures: number, options: BackoffOptions): number {
  const { baseMs, maxMs } = options;
  if (!Number.isFinite(baseMs) || baseMs <= 0) {
    throw new RangeError(`Cannot compute back-off: baseMs must be > 0, got ${baseMs}`);
  }
  if (!Number.isFinite(maxMs) || maxMs < baseMs) {
    throw new RangeError(`Cannot compute back-off: maxMs must be \u2265 baseMs, got ${maxMs}`);
  }
  const exponent = Math.min(Math.max(failures, 1) - 1, 52);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  const random = options.random ?? Math.random;
  return ceiling / 2 + random() * (ceiling / 2);
}
