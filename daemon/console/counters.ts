/**
 * The counters the console samples and the live rates it shows, read from the hub's totals and
 * the process; nothing here runs per message.
 */
import { histogramDifference, type HistogramSnapshot } from "../../core/histogram.ts";
import type { HubStats } from "../../hub/mod.ts";
import type { ConsoleSources } from "./context.ts";
import { type HistoryReading, type MetricHistory, ratesPerSecond } from "./history.ts";

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** The counters a history sample reads, or undefined before the hub started. */
export function readCounters(sources: ConsoleSources): HistoryReading | undefined {
  let stats;
  try {
    stats = sources.hub().stats();
  } catch {
    return undefined;
  }
  return countersOf(stats, sources);
}

/** The counters a history sample reads, from a snapshot of the hub's stats already taken. */
export function countersOf(stats: HubStats, sources: ConsoleSources): HistoryReading {
  const cpu = process.cpuUsage();
  return {
    received: sum(Object.values(stats.received)),
    routedByRoute: stats.routedByRoute,
    routedByEndpoint: stats.routed,
    deliveredByEndpoint: stats.delivered,
    forwarded: sources.upstream.state().forwarding.forwarded,
    queueDepth: sum(stats.queues.map((queue) => queue.count)),
    queueBytes: sum(stats.queues.map((queue) => queue.bytes)),
    rssBytes: Deno.memoryUsage().rss,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    syncSeconds: stats.store.syncs.seconds,
  };
}

/** Rates now, against the history's baseline (over the last 5-15 s). */
export interface LiveRates {
  /** The window the rates span; 0 before the first sample. */
  seconds: number;
  received: number;
  byRoute: Record<string, number>;
  routedByEndpoint: Record<string, number>;
  deliveredByEndpoint: Record<string, number>;
  /** Messages the parent acknowledged per second: how fast the `$upstream` backlog drains. */
  forwarded: number;
  cpuPercent: number;
  /** The store's fdatasyncs over the window; undefined without two readings of them. */
  syncSeconds?: HistogramSnapshot;
}

/** The live rates of `current` against `history`'s baseline. */
export function liveRates(history: MetricHistory, current: HistoryReading | undefined): LiveRates {
  const now = Date.now();
  const base = history.baseline(now);
  const seconds = base && current ? (now - base.at) / 1000 : 0;
  if (!current || !base || seconds <= 0) {
    return {
      seconds: 0,
      received: 0,
      byRoute: {},
      routedByEndpoint: {},
      deliveredByEndpoint: {},
      forwarded: 0,
      cpuPercent: 0,
    };
  }
  return {
    seconds,
    received: Math.max(0, current.received - base.received) / seconds,
    byRoute: ratesPerSecond(current.routedByRoute, base.routedByRoute, seconds),
    routedByEndpoint: ratesPerSecond(current.routedByEndpoint, base.routedByEndpoint, seconds),
    deliveredByEndpoint: ratesPerSecond(
      current.deliveredByEndpoint,
      base.deliveredByEndpoint,
      seconds,
    ),
    forwarded: Math.max(0, current.forwarded - base.forwarded) / seconds,
    cpuPercent: Math.max(0, current.cpuSeconds - base.cpuSeconds) / seconds * 100,
    ...syncsBetween(current.syncSeconds, base.syncSeconds),
  };
}

/** The syncs between two readings, when both have them (a hub started anew counts afresh). */
function syncsBetween(
  current: HistogramSnapshot | undefined,
  base: HistogramSnapshot | undefined,
): { syncSeconds?: HistogramSnapshot } {
  if (!current || !base) return {};
  try {
    return { syncSeconds: histogramDifference(current, base) };
  } catch {
    return {};
  }
}
