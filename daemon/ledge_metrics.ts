/**
 * The metric families of ledge's parts, named after IoT Edge's built-in metrics where one exists
 * (`edgehub_*`, `edgeagent_*`), read from each part's stats at scrape time.
 */
import type { Agent } from "../agent/mod.ts";
import type { Hub } from "../hub/mod.ts";
import type { MetricFamily, MetricSample } from "./metrics.ts";

function perKey(counts: Record<string, number>, label: string): MetricSample[] {
  return Object.entries(counts).map(([key, value]) => ({ labels: { [label]: key }, value }));
}

type HubStats = () => ReturnType<Hub["stats"]>;

/** The hub's families: traffic per identity and endpoint, queues, drops, syncs, clients, auth. */
export function hubFamilies(hub: () => Hub): MetricFamily[] {
  const stats = () => hub().stats();
  return [
    ...trafficFamilies(stats),
    ...queueFamilies(stats),
    ...syncFamilies(stats),
    ...clientFamilies(stats),
  ];
}

/** Messages received, routed, sent and dropped. */
function trafficFamilies(stats: HubStats): MetricFamily[] {
  return [
    {
      name: "edgehub_messages_received_total",
      help: "Messages received from clients, by sending identity.",
      type: "counter",
      labelNames: ["id"],
      read: () => perKey(stats().received, "id"),
    },
    {
      name: "edgehub_messages_routed_total",
      help: "Messages routed into an endpoint's queue, by endpoint.",
      type: "counter",
      labelNames: ["endpoint"],
      read: () => perKey(stats().routed, "endpoint"),
    },
    {
      name: "edgehub_messages_sent_total",
      help: "Messages delivered and acknowledged, by endpoint.",
      type: "counter",
      labelNames: ["endpoint"],
      read: () => perKey(stats().delivered, "endpoint"),
    },
    {
      name: "edgehub_messages_dropped_total",
      help:
        "Messages not delivered, by reason (no_route, ttl_expired, queue_full, disk_full, too_large, body_lost).",
      type: "counter",
      labelNames: ["reason"],
      read: () => {
        const s = stats();
        const expired = s.queues.reduce((sum, q) => sum + q.dropped.expired, 0);
        const full = s.queues.reduce((sum, q) => sum + q.dropped.full, 0);
        const lost = s.queues.reduce((sum, q) => sum + q.dropped.lost, 0);
        return [
          { labels: { reason: "no_route" }, value: s.unrouted },
          { labels: { reason: "ttl_expired" }, value: expired },
          {
            labels: { reason: "queue_full" },
            value: Math.max(full, s.refusedFull - s.refusedDiskFull),
          },
          { labels: { reason: "disk_full" }, value: s.refusedDiskFull },
          { labels: { reason: "too_large" }, value: s.tooLarge },
          { labels: { reason: "body_lost" }, value: lost },
        ];
      },
    },
    {
      name: "edgehub_messages_dead_lettered_total",
      help:
        "Messages acknowledged and dropped after the same message was refused again and again, by reason.",
      type: "counter",
      labelNames: ["reason"],
      read: () => [{ labels: { reason: "too_large" }, value: stats().tooLargeDeadLettered }],
    },
  ];
}

/** The durable queues: length, bytes, oldest age. */
function queueFamilies(stats: HubStats): MetricFamily[] {
  return [
    {
      name: "edgehub_queue_length",
      help: "Messages waiting in an endpoint's durable queue.",
      type: "gauge",
      labelNames: ["endpoint"],
      read: () => stats().queues.map((q) => ({ labels: { endpoint: q.endpoint }, value: q.count })),
    },
    {
      name: "edgehub_queue_bytes",
      help: "Bytes waiting in an endpoint's durable queue (what hub.store.max_size_bytes bounds).",
      type: "gauge",
      labelNames: ["endpoint"],
      read: () => stats().queues.map((q) => ({ labels: { endpoint: q.endpoint }, value: q.bytes })),
    },
    {
      name: "edgehub_queue_oldest_age_seconds",
      help: "Age of the oldest message in an endpoint's queue (0 when empty).",
      type: "gauge",
      labelNames: ["endpoint"],
      read: () =>
        stats().queues.map((q) => ({
          labels: { endpoint: q.endpoint },
          value: q.oldestAgeSeconds ?? 0,
        })),
    },
  ];
}

/** The store's fdatasyncs: on the event loop while the disk answers fast, else on a thread. */
function syncFamilies(stats: HubStats): MetricFamily[] {
  return [
    {
      name: "ledge_store_syncs_total",
      help:
        "The message store's fdatasyncs, by thread: loop (the disk answers fast) or pool (it was slow lately).",
      type: "counter",
      labelNames: ["thread"],
      read: () => {
        const { syncs } = stats().store;
        return [
          { labels: { thread: "loop" }, value: syncs.onLoop },
          { labels: { thread: "pool" }, value: syncs.onPool },
        ];
      },
    },
    {
      name: "ledge_store_sync_duration_seconds",
      help:
        "How long the message store's fdatasyncs took (the WAL's after each commit, the body log's), on the loop or on a thread: the floor under a durable PUBACK.",
      type: "histogram",
      read: () => [{ histogram: stats().store.syncs.seconds }],
    },
    {
      name: "ledge_store_slow_disk_total",
      help:
        "Times the message store's syncs were too slow for the event loop and went to a thread.",
      type: "counter",
      read: () => [{ value: stats().store.syncs.toPool }],
    },
  ];
}

/** Clients: connected, refused, denied, closed for protocol errors. */
function clientFamilies(stats: HubStats): MetricFamily[] {
  return [
    {
      name: "edgehub_connected_clients",
      help: "Clients connected to the hub.",
      type: "gauge",
      read: () => [{ value: stats().connectedClients }],
    },
    {
      name: "edgehub_client_connect_failed_total",
      help: "Connections refused, by reason (not_authorized, rate_limited).",
      type: "counter",
      labelNames: ["reason"],
      read: () => [
        { labels: { reason: "not_authorized" }, value: stats().authFailures },
        { labels: { reason: "rate_limited" }, value: stats().authRateLimited },
      ],
    },
    {
      name: "edgehub_acl_denials_total",
      help: "Publishes and subscriptions refused by the per-identity ACL.",
      type: "counter",
      read: () => [{ value: stats().aclDenials }],
    },
    {
      name: "edgehub_protocol_errors_total",
      help: "Connections closed for malformed or forbidden packets.",
      type: "counter",
      read: () => [{ value: stats().protocolErrors }],
    },
  ];
}

/** The agent's families: module status and restarts. */
export function agentFamilies(agent: Agent): MetricFamily[] {
  const modules = () => Object.entries(agent.reported().modules);
  return [
    {
      name: "edgeagent_module_status",
      help: "1 for each module's current runtime status.",
      type: "gauge",
      labelNames: ["module_name", "status"],
      read: () =>
        modules().map(([name, module]) => ({
          labels: { module_name: name, status: module.runtimeStatus },
          value: 1,
        })),
    },
    {
      name: "edgeagent_module_restarts",
      help: "Restarts of each module since its restart count was last reset.",
      type: "gauge",
      labelNames: ["module_name"],
      read: () =>
        modules().map(([name, module]) => ({
          labels: { module_name: name },
          value: module.restartCount,
        })),
    },
  ];
}

/** Certificates' days to expiry, from the security manager's listing. */
export function certificateFamilies(
  certificates: () => { kind: string; name: string; daysLeft: number }[],
): MetricFamily[] {
  return [{
    name: "ledge_certificate_expiry_days",
    help: "Days until each certificate ledge holds expires.",
    type: "gauge",
    labelNames: ["kind", "name"],
    read: () =>
      certificates().map((c) => ({ labels: { kind: c.kind, name: c.name }, value: c.daysLeft })),
  }];
}
