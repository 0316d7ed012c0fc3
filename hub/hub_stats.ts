/**
 * The hub's statistics: the counters its paths add to, the heads' counters, and the snapshot
 * {@linkcode Hub.stats} returns (what the metrics and the console read).
 */
import type { BrokerCounters } from "./broker.ts";
import type { IngestCounters } from "./telemetry_ingest.ts";
import type { MessageStore } from "../store/mod.ts";

/** The hub's counters; issue 8 turns them into Prometheus metrics. */
export interface HubStats extends IngestCounters {
  connectedClients: number;
  clients: string[];
  delivered: Record<string, number>;
  authFailures: number;
  authRateLimited: number;
  aclDenials: number;
  protocolErrors: number;
  unknownMethodReplies: number;
  methodCallsPending: number;
  queues: ReturnType<MessageStore["stats"]>;
  /** The store's commits and where its fdatasyncs ran (on the event loop, or on a thread). */
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
  return {
    connectedClients: from.clients.length,
    clients: from.clients,
    received: { ...counters.received },
    routed: { ...counters.routed },
    routedByRoute: { ...counters.routedByRoute },
    delivered: { ...counters.delivered },
    unrouted: counters.unrouted,
    refusedFull: counters.refusedFull,
    refusedDiskFull: counters.refusedDiskFull,
    tooLarge: counters.tooLarge,
    tooLargeDeadLettered: counters.tooLargeDeadLettered,
    ...sumCounters(from.broker, from.heads),
    heads: Object.fromEntries([...from.heads].map(([name, read]) => [name, { ...read() }])),
    unknownMethodReplies: counters.unknownMethodReplies,
    methodCallsPending: from.methodCallsPending,
    queues: from.store.stats(),
    store: from.store.commitCounters(),
    routes: from.routes,
  };
}

/** The broker's counters plus what the other heads count of the same. */
function sumCounters(broker: BrokerCounters, heads: ReadonlyMap<string, HeadCounters>) {
  const sum = { ...broker };
  for (const read of heads.values()) {
    const counters = read();
    for (const name of Object.keys(sum) as (keyof BrokerCounters)[]) {
      sum[name] += counters[name] ?? 0;
    }
  }
  return sum;
}
