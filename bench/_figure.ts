/** One measured figure of a benchmark, with the reference it is compared against. */
export interface Figure {
  /** Benchmark group, e.g. "routes", "broker", "store". */
  group: string;
  /** What was measured, e.g. "route evaluations, 10-route table, 200 B JSON". */
  name: string;
  /** Unit of every value, e.g. "evals/s", "ms", "MB". */
  unit: string;
  /** One value per run (at least 3 runs unless the bench says why not). */
  values: number[];
  /** Whether a larger value is better (throughput) or worse (latency, memory). */
  higherIsBetter: boolean;
  /** The same quantity measured on a reference in the same run, when there is one. */
  reference?: {
    name: string;
    values: number[];
    /**
     * `values[i]` and `reference.values[i]` were measured in the same round, one right after the
     * other: their ratios are pairs, which a slow phase of the machine moves together.
     */
    paired?: boolean;
  };
}

/** Options every benchmark receives from the runner. */
export interface BenchOptions {
  /** A smoke run: few iterations, bounded to seconds; figures are not meant to be quoted. */
  quick: boolean;
}
