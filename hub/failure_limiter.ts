/**
 * Rate limit of failed connects: after `limitPerMinute` failures within a sliding minute for one
 * identity claimed from one source address, further attempts of that identity from there are
 * refused before any credential check. Other identities at the same address (modules on the host
 * network, leaves behind one NAT) keep their own budget: one removed or misconfigured device that
 * retries ten times a second does not lock them out. The address as a whole is bounded too, at
 * {@link SOURCE_FACTOR} times the limit, so rotating the claimed identity buys an attacker little.
 */

/** The limiter's view of sources and the identities they claim. */
export interface FailureLimiter {
  /**
   * Whether attempts from `source` claiming `claimed` are refused for now. Without `claimed`
   * (an attempt that names no identity yet), only the address's own bound applies.
   */
  blocked(source: string, claimed?: string): boolean;
  /** Records a failed attempt from `source`, claiming `claimed` when it named one. */
  fail(source: string, claimed?: string): void;
  /** Keys currently tracked (bounded by pruning). */
  size(): number;
}

/** How many times one identity's budget a whole source address may fail per minute. */
export const SOURCE_FACTOR = 10;

const WINDOW_MS = 60_000;
const MAX_KEYS = 10_000;

/** Creates a limiter; `now` is injectable for tests. */
export function createFailureLimiter(
  options: { limitPerMinute: number; now?: () => number },
): FailureLimiter {
  const windows = new SlidingWindows(options.now ?? Date.now);
  const perIdentity = options.limitPerMinute;
  const perSource = options.limitPerMinute * SOURCE_FACTOR;
  return {
    blocked(source, claimed) {
      if (windows.count(sourceKey(source)) >= perSource) return true;
      return claimed !== undefined && windows.count(pairKey(source, claimed)) >= perIdentity;
    },
    fail(source, claimed) {
      windows.add(sourceKey(source), perSource);
      if (claimed !== undefined) windows.add(pairKey(source, claimed), perIdentity);
    },
    size: () => windows.size,
  };
}

function sourceKey(source: string): string {
  return `${source}\n`;
}

function pairKey(source: string, claimed: string): string {
  return `${source}\n${claimed.toLowerCase()}`;
}

/** Failure times per key within the last minute, each list bounded by its limit. */
class SlidingWindows {
  readonly #times = new Map<string, number[]>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  get size(): number {
    return this.#times.size;
  }

  count(key: string): number {
    return this.#recent(key).length;
  }

  add(key: string, keep: number): void {
    const times = this.#recent(key);
    times.push(this.#now());
    this.#times.set(key, times.slice(-keep));
    if (this.#times.size > MAX_KEYS) this.#prune();
  }

  #recent(key: string): number[] {
    const cutoff = this.#now() - WINDOW_MS;
    const times = (this.#times.get(key) ?? []).filter((time) => time > cutoff);
    if (times.length === 0) this.#times.delete(key);
    else this.#times.set(key, times);
    return times;
  }

  #prune(): void {
    for (const key of this.#times.keys()) {
      this.#recent(key);
      if (this.#times.size <= MAX_KEYS / 2) break;
    }
  }
}
