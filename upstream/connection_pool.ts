/**
 * The connections to the parent, one per identity (the IoT Hub MQTT model): this device's is
 * always open; a module's or a lower device's opens when something needs it (a message to
 * forward, a twin request, a hold while it is connected locally) and closes after
 * `idleTimeoutMs` without use.
 */
import type { Logger } from "../core/log.ts";
import type { ConnectSettings } from "./connect_settings.ts";
import type { BackoffOptions } from "./reconnect_backoff.ts";
import { createTwinRequests, type TwinRequests } from "./twin_requests.ts";
import {
  type ConnectionState,
  createUpstreamConnection,
  type UpstreamConnection,
} from "./upstream_connection.ts";
import { identityKey, identityLabel, type IdentityRef } from "../iothub/mod.ts";

/** One identity's connection and what rides on it. */
export interface PoolEntry {
  readonly identity: IdentityRef;
  readonly connection: UpstreamConnection;
  readonly twin: TwinRequests;
}

/** Options of {@linkcode createConnectionPool}. */
export interface ConnectionPoolOptions {
  ownDeviceId: string;
  /** Settings of the next attempt of `identity` (fresh token); may throw. */
  settingsFor: (identity: IdentityRef) => ConnectSettings;
  backoff: BackoffOptions;
  idleTimeoutMs: number;
  logger: Logger;
  /** A message from the parent on `identity`'s connection that is not a twin response. */
  onMessage: (
    identity: IdentityRef,
    topic: string,
    payload: Uint8Array,
  ) => void | Promise<void>;
  /** `identity`'s connection came up (after subscribing) or went down. */
  onStateChange: (identity: IdentityRef, state: ConnectionState) => void;
  /** Whether `identity` still has work that needs its connection (keeps it from idling out). */
  inUse?: (identity: IdentityRef) => boolean;
  twinTimeoutMs?: number;
  now?: () => number;
}

/** The connections to the parent. */
export interface ConnectionPool {
  /** The entry of `identity`, opening its connection when needed; marks it used. */
  get(identity: IdentityRef): PoolEntry;
  /** Keeps `identity`'s connection open until the returned function is called. */
  hold(identity: IdentityRef): () => void;
  /** Every open entry with its state. */
  list(): { identity: IdentityRef; state: ConnectionState; held: boolean }[];
  /** Closes every connection. */
  close(): Promise<void>;
}

interface Slot extends PoolEntry {
  holds: number;
  lastUsedMs: number;
}

/** Topic filters an identity subscribes to: twin answers and desired patches, methods, C2D. */
export function subscriptionsOf(identity: IdentityRef): string[] {
  const filters = [
    "$iothub/twin/res/#",
    "$iothub/twin/PATCH/properties/desired/#",
    "$iothub/methods/POST/#",
  ];
  if (identity.moduleId === undefined) {
    filters.push(`devices/${identity.deviceId}/messages/devicebound/#`);
  }
  return filters;
}

/** The pool: a class over the slots, each identity's connection and twin requests. */
class UpstreamConnectionPool implements ConnectionPool {
  readonly #options: ConnectionPoolOptions;
  readonly #now: () => number;
  readonly #slots = new Map<string, Slot>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(options: ConnectionPoolOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#open({ deviceId: options.ownDeviceId }).holds = 1;
    const sweepMs = Math.max(250, Math.min(options.idleTimeoutMs / 2, 30_000));
    this.#sweeper = setInterval(() => this.#sweep(), sweepMs);
  }

  get(identity: IdentityRef): PoolEntry {
    return this.#slotOf(identity);
  }

  hold(identity: IdentityRef): () => void {
    const slot = this.#slotOf(identity);
    slot.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      slot.holds--;
      slot.lastUsedMs = this.#now();
    };
  }

  list(): { identity: IdentityRef; state: ConnectionState; held: boolean }[] {
    return [...this.#slots.values()].map((slot) => ({
      identity: slot.identity,
      state: slot.connection.state(),
      held: slot.holds > 0,
    }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    const all = [...this.#slots.values()];
    this.#slots.clear();
    for (const slot of all) slot.twin.failAll("the upstream connector is stopping");
    await Promise.all(all.map((slot) => slot.connection.close()));
  }

  #open(identity: IdentityRef): Slot {
    const options = this.#options;
    const late: { twin?: TwinRequests } = {};
    const connection = createUpstreamConnection({
      identity,
      settings: () => options.settingsFor(identity),
      subscriptions: subscriptionsOf(identity),
      backoff: options.backoff,
      logger: options.logger,
      ...(options.now ? { now: options.now } : {}),
      onMessage(topic, payload) {
        if (late.twin?.handle(topic, payload)) return;
        return options.onMessage(identity, topic, payload);
      },
      onStateChange(state) {
        if (!state.connected) late.twin?.failAll("the connection to the parent dropped");
        options.onStateChange(identity, state);
      },
    });
    const twin = createTwinRequests(
      (topic, payload) => connection.publish(topic, payload, { qos: 0 }),
      {
        label: identityLabel(identity),
        ...(options.twinTimeoutMs ? { timeoutMs: options.twinTimeoutMs } : {}),
      },
    );
    late.twin = twin;
    const slot: Slot = { identity, connection, twin, holds: 0, lastUsedMs: this.#now() };
    this.#slots.set(identityKey(identity), slot);
    return slot;
  }

  #slotOf(identity: IdentityRef): Slot {
    if (this.#closed) throw new Error("Cannot use the upstream connections: they are closed");
    const slot = this.#slots.get(identityKey(identity)) ?? this.#open(identity);
    slot.lastUsedMs = this.#now();
    return slot;
  }

  /** Closes the connections no one held or used for `idleTimeoutMs`. */
  #sweep(): void {
    const cutoff = this.#now() - this.#options.idleTimeoutMs;
    for (const [key, slot] of this.#slots) {
      if (slot.holds > 0 || slot.connection.inflight() > 0 || slot.lastUsedMs > cutoff) continue;
      if (this.#options.inUse?.(slot.identity)) continue;
      this.#slots.delete(key);
      slot.twin.failAll("the connection closed after being idle");
      this.#options.logger.debug("closing an idle upstream connection", {
        identity: identityLabel(slot.identity),
      });
      slot.connection.close().catch(() => {});
    }
  }
}

/** Creates the pool and opens this device's connection. */
export function createConnectionPool(options: ConnectionPoolOptions): ConnectionPool {
  return new UpstreamConnectionPool(options);
}
