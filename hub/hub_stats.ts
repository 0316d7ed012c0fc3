/**
 * The hub's statistics: the counters its paths add to, the heads' counters, and the snapshot
 * {@linkcode Hub.stats} returns (what the metrics and the console read).
 */
import type { BrokerCounters } from "./broker.ts";
import type { IngestCounters } from "./telemetry_ingest.ts";
import type { MessageStore } from "../store/mod.ts";

/**
 * A snapshot of the hub's statistics: its own counters, the broker's summed with the other heads'
 * (what the metrics and the console read).
 */
export interface HubStats extends HubCounters, BrokerCounters {
  connectedClients: number;
  clients: string[];
  methodCallsPending: number;
  queues: ReturnType<MessageStore["stats"]>;
  /** The store's commits, where its fdatasyncs ran and how long they took. */
  store: ReturnType<MessageStore["commitCounters"]>;
  routes: string[];
  /** Counters of the heads besides MQTT, by head ("amqp"). */
  heads: Record<string, Record<string, number>>;
}

/** What a head besides MQTT counts: those it shares with the broker, and its own. */
export type HeadCounters = () => Partial<BrokerCounters> & Record<string, number>;

/** The counters the hub's paths add to (ingest, deliveries, method replies). */
export interface HubCounters extends IngestCounters {
  delivered: Record<string, number>;
  unknownMethodReplies: number;
}

/** Counters at zero. */
export function newHubCounters(): HubCounters {
  return {
    received: {},
    routed: {},
    routedByRoute: {},
    delivered: {},
    unrouted: 0,
    refusedFull: 0,
    refusedDiskFull: 0,
    tooLarge: 0,
    tooLargeDeadLettered: 0,
    unknownMethodReplies: 0,
  };
}

/** What a snapshot of the hub's statistics reads. */
export interface StatsSources {
  counters: HubCounters;
  /** The MQTT broker's counters. */
  broker: BrokerCounters;
  /** The other heads' counters, by head. */
  heads: ReadonlyMap<string, HeadCounters>;
  clients: string[];
  methodCallsPending: number;
  store: MessageStore;
  routes: string[];
}

/** A snapshot: copies of the counters, the heads' shared counters summed into the broker's. */
export function hubStats(from: StatsSources): HubStats {
  const { counters } = from;
  // Each head's counters read once, for its own entry and for the sums.
  const heads = Object.fromEntries([...from.heads].map(([name, read]) => [name, { ...read() }]));
  return {
    ...counters,
    received: { ...counters.received },
    routed: { ...counters.routed },
    routedByRoute: { ...counters.routedByRoute },
    delivered: { ...counters.delivered },
    ...sumCounters(from.broker, Object.values(heads)),
    connectedClients: from.clients.length,
    clients: from.clients,
    heads,
    methodCallsPending: from.methodCallsPending,
    queues: from.store.stats(),
    store: from.store.commitCounters(),
    routes: from.routes,
  };
}

/** The broker's counters plus what the other heads count of the same. */
function sumCounters(
  broker: BrokerCounters,
  heads: readonly Partial<Record<keyof BrokerCounters, number>>[],
): BrokerCounters {
  const sum = { ...broker };
  for (const counters of heads) {
    for (const name of Object.keys(sum) as (keyof BrokerCounters)[]) {
      sum[name] += counters[name] ?? 0;
    }
  }
  return sum;
}
