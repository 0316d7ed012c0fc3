/**
 * The last hour of the daemon, for the console's charts: a bounded ring sampled every 10 s
 * (message rate, queue depth, RSS, CPU), plus the last two counter snapshots the live rates are
 * computed from. Sampling reads totals the hub already keeps; nothing is done per message.
 */
import type { HistogramSnapshot } from "../../core/histogram.ts";

/** The counters one sample reads. */
export interface HistoryReading {
  /** Messages received from clients, in total. */
  received: number;
  /** Messages routed, by route name. */
  routedByRoute: Record<string, number>;
  /** Messages routed, by endpoint. */
  routedByEndpoint: Record<string, number>;
  /** Messages delivered, by endpoint. */
  deliveredByEndpoint: Record<string, number>;
  /** Messages the upstream parent acknowledged, in total. */
  forwarded: number;
  /** Messages waiting, over every queue. */
  queueDepth: number;
  queueBytes: number;
  rssBytes: number;
  /** User + system CPU time of the process. */
  cpuSeconds: number;
  /** How long the store's fdatasyncs took so far (s). */
  syncSeconds?: HistogramSnapshot;
}

/** A reading with its time. */
export interface Snapshot extends HistoryReading {
  /** ms since the epoch. */
  at: number;
}

/** The series of the charts, oldest first; rates are per second over each interval. */
export interface HistorySeries {
  at: number[];
  messageRate: number[];
  queueDepth: number[];
  rssBytes: number[];
  cpuPercent: number[];
}

/** Options of {@linkcode MetricHistory}. */
export interface MetricHistoryOptions {
  /** Reads the counters; undefined while they cannot be read (the hub is not started). */
  read: () => HistoryReading | undefined;
  intervalMs?: number;
  /** Samples kept: 360 x 10 s is one hour. */
  capacity?: number;
  now?: () => number;
}

/** A bounded ring of samples, taken on a timer that does not keep the process alive. */
export class MetricHistory {
  readonly intervalMs: number;
  readonly capacity: number;
  readonly #read: () => HistoryReading | undefined;
  readonly #now: () => number;
  readonly #at: Float64Array;
  readonly #rate: Float64Array;
  readonly #depth: Float64Array;
  readonly #rss: Float64Array;
  readonly #cpu: Float64Array;
  #next = 0;
  #count = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #last: Snapshot | undefined;
  #beforeLast: Snapshot | undefined;

  constructor(options: MetricHistoryOptions) {
    this.#read = options.read;
    this.#now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.capacity = options.capacity ?? 360;
    this.#at = new Float64Array(this.capacity);
    this.#rate = new Float64Array(this.capacity);
    this.#depth = new Float64Array(this.capacity);
    this.#rss = new Float64Array(this.capacity);
    this.#cpu = new Float64Array(this.capacity);
  }

  /** Takes a first sample now, then one every interval. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the counters and appends a sample (rates need the previous one). */
  sample(): void {
    let reading: HistoryReading | undefined;
    try {
      reading = this.#read();
    } catch {
      reading = undefined;
    }
    if (!reading) return;
    const snapshot: Snapshot = { ...reading, at: this.#now() };
    const previous = this.#last;
    this.#beforeLast = previous;
    this.#last = snapshot;
    if (!previous) return;
    const seconds = (snapshot.at - previous.at) / 1000;
    if (seconds <= 0) return;
    const i = this.#next;
    this.#at[i] = snapshot.at;
    this.#rate[i] = Math.max(0, snapshot.received - previous.received) / seconds;
    this.#depth[i] = snapshot.queueDepth;
    this.#rss[i] = snapshot.rssBytes;
    this.#cpu[i] = Math.max(0, snapshot.cpuSeconds - previous.cpuSeconds) / seconds * 100;
    this.#next = (i + 1) % this.capacity;
    this.#count = Math.min(this.#count + 1, this.capacity);
  }

  /** Every sample kept, oldest first. */
  series(): HistorySeries {
    const out: HistorySeries = {
      at: [],
      messageRate: [],
      queueDepth: [],
      rssBytes: [],
      cpuPercent: [],
    };
    const first = (this.#next - this.#count + this.capacity) % this.capacity;
    for (let k = 0; k < this.#count; k++) {
      const i = (first + k) % this.capacity;
      out.at.push(this.#at[i]!);
      out.messageRate.push(this.#rate[i]!);
      out.queueDepth.push(this.#depth[i]!);
      out.rssBytes.push(this.#rss[i]!);
      out.cpuPercent.push(this.#cpu[i]!);
    }
    return out;
  }

  /**
   * The snapshot live rates are measured from: the last sample when it is at least half an
   * interval old at `now`, else the one before it (so a rate never spans a sliver of time).
   */
  baseline(now: number = this.#now()): Snapshot | undefined {
    const last = this.#last;
    if (last && now - last.at >= this.intervalMs / 2) return last;
    return this.#beforeLast ?? last;
  }
}

/**
 * Per-second rates of `current` against `baseline`, key by key (a key new since the baseline
 * counts from zero; a counter that went down, a restarted one, counts from zero too).
 */
export function ratesPerSecond(
  current: Record<string, number>,
  baseline: Record<string, number> | undefined,
  seconds: number,
): Record<string, number> {
  const rates: Record<string, number> = {};
  for (const [key, value] of Object.entries(current)) {
    const before = baseline?.[key] ?? 0;
    const delta = value >= before ? value - before : value;
    rates[key] = seconds > 0 ? delta / seconds : 0;
  }
  return rates;
}
