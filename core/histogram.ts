/**
 * A histogram of durations (or any non-negative amounts) over fixed bucket bounds, as Prometheus
 * histograms count them: an observation falls in the first bucket whose upper bound is at least
 * its value. Recording is a short scan and two additions, cheap enough for a hot path; snapshots
 * are plain data, so two of them can be subtracted to see one interval.
 *
 * @module
 */

/** A histogram's counts at one moment. */
export interface HistogramSnapshot {
  /** Upper bounds of the buckets, ascending (the last bucket, +Inf, is implied). */
  bounds: readonly number[];
  /** Observations at or below each bound: cumulative, one per bound. */
  cumulative: readonly number[];
  /** All observations (the +Inf bucket). */
  count: number;
  /** The sum of all observations. */
  sum: number;
}

/** Counts observations per bucket; see {@linkcode HistogramSnapshot}. */
export class Histogram {
  readonly #bounds: readonly number[];
  /** Per bucket, not cumulative; the last is above every bound. */
  readonly #counts: number[];
  #sum = 0;

  /** @param bounds finite upper bounds, strictly ascending */
  constructor(bounds: readonly number[]) {
    if (bounds.length === 0) throw new RangeError("Cannot make a histogram: no bucket bounds");
    for (let i = 0; i < bounds.length; i++) {
      if (!Number.isFinite(bounds[i]) || (i > 0 && bounds[i]! <= bounds[i - 1]!)) {
        throw new RangeError(
          `Cannot make a histogram: bound ${bounds[i]} is not finite and above the one before`,
        );
      }
    }
    this.#bounds = [...bounds];
    this.#counts = new Array(bounds.length + 1).fill(0);
  }

  /** Counts one observation of `value`. */
  observe(value: number): void {
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.#counts[bucket]!++;
    this.#sum += value;
  }

  /** The counts so far. */
  snapshot(): HistogramSnapshot {
    const cumulative: number[] = [];
    let count = 0;
    for (let i = 0; i < this.#bounds.length; i++) cumulative.push(count += this.#counts[i]!);
    count += this.#counts[this.#bounds.length]!;
    return { bounds: this.#bounds, cumulative, count, sum: this.#sum };
  }
}

/**
 * The observations made between two snapshots of one histogram.
 * @throws {RangeError} when their bounds differ or `later` counts fewer than `earlier`
 */
export function histogramDifference(
  later: HistogramSnapshot,
  earlier: HistogramSnapshot,
): HistogramSnapshot {
  const sameBounds = later.bounds.length === earlier.bounds.length &&
    later.bounds.every((bound, i) => bound === earlier.bounds[i]);
  if (!sameBounds) throw new RangeError("Cannot subtract histograms: their bounds differ");
  if (later.count < earlier.count) {
    throw new RangeError("Cannot subtract histograms: the later one counts fewer observations");
  }
  return {
    bounds: later.bounds,
    cumulative: later.cumulative.map((n, i) => n - earlier.cumulative[i]!),
    count: later.count - earlier.count,
    sum: later.sum - earlier.sum,
  };
}

/**
 * The `q`-quantile (0..1) estimated as Prometheus's `histogram_quantile` does: linear within the
 * bucket that holds it (from 0 for the first bucket); the highest bound when it falls in the
 * +Inf bucket; NaN with no observations.
 */
export function histogramQuantile(snapshot: HistogramSnapshot, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Cannot estimate quantile ${q}: not within 0..1`);
  const { bounds, cumulative, count } = snapshot;
  if (count === 0) return NaN;
  const rank = q * count;
  const bucket = cumulative.findIndex((n) => n >= rank);
  if (bucket === -1) return bounds[bounds.length - 1]!;
  const below = bucket === 0 ? 0 : cumulative[bucket - 1]!;
  const lower = bucket === 0 ? 0 : bounds[bucket - 1]!;
  const inBucket = cumulative[bucket]! - below;
  if (inBucket === 0) return bounds[bucket]!;
  return lower + (bounds[bucket]! - lower) * ((rank - below) / inBucket);
}
