/**
 * Rate limit of failed CONNECTs per source address: after `limitPerMinute` failures within a
 * sliding minute, further CONNECTs from that source are refused before any credential check.
 */

/** The limiter's view of one source. */
export interface FailureLimiter {
  /** Whether `source` has used up its failures for now. */
  blocked(source: string): boolean;
  /** Records a failed attempt from `source`. */
  fail(source: string): void;
  /** Sources currently tracked (bounded by pruning). */
  size(): number;
}

const WINDOW_MS = 60_000;

/** Creates a limiter; `now` is injectable for tests. */
export function createFailureLimiter(
  options: { limitPerMinute: number; now?: () => number },
): FailureLimiter {
  const now = options.now ?? Date.now;
  const failures = new Map<string, number[]>();

  function recent(source: string): number[] {
    const cutoff = now() - WINDOW_MS;
    const times = (failures.get(source) ?? []).filter((time) => time > cutoff);
    if (times.length === 0) failures.delete(source);
    else failures.set(source, times);
    return times;
  }

  return {
    blocked: (source) => recent(source).length >= options.limitPerMinute,
    fail(source) {
      const times = recent(source);
      times.push(now());
      failures.set(source, times.slice(-options.limitPerMinute));
      if (failures.size > 10_000) {
        for (const key of failures.keys()) {
          recent(key);
          if (failures.size <= 5_000) break;
        }
      }
    },
    size: () => failures.size,
  };
}
