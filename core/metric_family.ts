/**
 * How a component describes its metrics: families whose values are read at scrape time, so
 * nothing runs per message. The daemon serves them as Prometheus text.
 */

/** One labelled value of a family. */
export interface MetricSample {
  labels?: Record<string, string>;
  value: number;
}

/** A metric family read at scrape time. Counters must read monotonic totals. */
export interface MetricFamily {
  name: string;
  help: string;
  type: "counter" | "gauge";
  labelNames?: readonly string[];
  read(): MetricSample[];
}
