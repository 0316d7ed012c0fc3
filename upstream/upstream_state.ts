/**
 * The connector's state as `ledge check`, the management API and the metrics read it.
 */
import type { DownstreamCounters } from "./downstream.ts";
import type { ForwarderStats } from "./forwarder.ts";
import type { ConnectionState } from "./upstream_connection.ts";

/** The connector's state, for `ledge check`, the management API and tests. */
export interface UpstreamState {
  enabled: boolean;
  /** `host:port` of the parent, or null when disabled. */
  parent: string | null;
  /** Whether this device's own connection is up. */
  connected: boolean;
  /** This device's connection, or null when disabled. */
  device: ConnectionState | null;
  /** Every open connection, this device's first. */
  connections: (ConnectionState & { identity: string; held: boolean })[];
  /**
   * `expired` counts messages that expired while leased; `expiredInQueue` those the store
   * dropped from the `$upstream` queue since it opened (purged at each link-up, and periodically).
   */
  forwarding: ForwarderStats & { queued: number; expiredInQueue: number };
  reported: { pending: number; sent: number; refused: number };
  downstream: DownstreamCounters;
}

/** The state of a connector that is not enabled. */
export function disabledState(): UpstreamState {
  return {
    enabled: false,
    parent: null,
    connected: false,
    device: null,
    connections: [],
    forwarding: {
      forwarded: 0,
      expired: 0,
      deadLettered: { too_large: 0, rejected: 0 },
      deadLetterDropped: 0,
      inflight: 0,
      leased: 0,
      suspects: 0,
      queued: 0,
      expiredInQueue: 0,
    },
    reported: { pending: 0, sent: 0, refused: 0 },
    downstream: { desired: 0, methods: 0, c2d: 0, c2dUnhandled: 0, malformed: 0 },
  };
}
