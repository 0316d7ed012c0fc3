/**
 * The connector's Prometheus metric families, read from its state at scrape time.
 */
import type { MetricFamily } from "../core/metric_family.ts";
import type { UpstreamState } from "./upstream_state.ts";

/** The connector's metric families, read from `state` at scrape time. */
export function upstreamMetricFamilies(
  state: () => UpstreamState,
  failures: () => ReadonlyMap<string, number>,
): MetricFamily[] {
  return [
    {
      name: "ledge_upstream_connected",
      help: "Whether the connection of an identity to the parent is up (1) or not (0).",
      type: "gauge",
      labelNames: ["identity"],
      read: () =>
        state().connections.map((c) => ({
          labels: { identity: c.identity },
          value: c.connected ? 1 : 0,
        })),
    },
    {
      name: "ledge_upstream_connection_failures_total",
      help: "Failed connection attempts and dropped links to the parent, by identity.",
      type: "counter",
      labelNames: ["identity"],
      read: () => [...failures()].map(([identity, value]) => ({ labels: { identity }, value })),
    },
    {
      name: "ledge_upstream_forwarded_total",
      help: "Messages the parent acknowledged.",
      type: "counter",
      read: () => [{ value: state().forwarding.forwarded }],
    },
    {
      name: "ledge_upstream_dead_lettered_total",
      help: "Messages the parent can never take, moved to the dead-letter queue, by reason.",
      type: "counter",
      labelNames: ["reason"],
      read: () =>
        Object.entries(state().forwarding.deadLettered).map(([reason, value]) => ({
          labels: { reason },
          value,
        })),
    },
    {
      name: "ledge_upstream_expired_total",
      help: "Messages whose TTL ran out while waiting for the parent.",
      type: "counter",
      read: () => [{ value: state().forwarding.expired + state().forwarding.expiredInQueue }],
    },
    {
      name: "ledge_upstream_inflight",
      help: "Messages sent to the parent and awaiting its PUBACK.",
      type: "gauge",
      read: () => [{ value: state().forwarding.inflight }],
    },
    {
      name: "ledge_upstream_reported_pending",
      help: "Reported-property patches waiting to be accepted by the parent.",
      type: "gauge",
      read: () => [{ value: state().reported.pending }],
    },
  ];
}
