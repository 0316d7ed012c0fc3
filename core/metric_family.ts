/**
 * How a component describes its metrics: families whose values are read at scrape time, so
 * nothing runs per message. The daemon serves them as Prometheus text.
 */
import type { HistogramSnapshot } from "./histogram.ts";

/** One labelled value of a counter or gauge family. */
export interface MetricSample {
  labels?: Record<string, string>;
  value: number;
}

/** One labelled histogram of a histogram family. */
export interface HistogramSample {
  labels?: Record<string, string>;
  histogram: HistogramSnapshot;
}

/** What every family has: its name, help text and label names. */
interface FamilyBase {
  name: string;
  help: string;
  /** A histogram's may not include `le`: Prometheus keeps that label for the buckets. */
  labelNames?: readonly string[];
}

/** A counter or gauge family read at scrape time. Counters must read monotonic totals. */
export interface ScalarFamily extends FamilyBase {
  type: "counter" | "gauge";
  read(): MetricSample[];
}

/** A histogram family read at scrape time (`<name>_bucket`, `_sum`, `_count`). */
export interface HistogramFamily extends FamilyBase {
  type: "histogram";
  read(): HistogramSample[];
}

/** A metric family read at scrape time. */
export type MetricFamily = ScalarFamily | HistogramFamily;
