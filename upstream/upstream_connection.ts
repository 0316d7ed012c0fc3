/**
 * One MQTT connection to the parent for one identity, kept up by itself: each attempt builds fresh
 * settings (a fresh SAS token), subscribes to the identity's topics, and after any failure or drop
 * waits a capped exponential back-off with jitter before the next. A SAS connection reconnects at
 * 3/4 of its token's lifetime to renew it, as the Azure IoT SDK does.
 */
import { Buffer } from "node:buffer";
import mqtt, { type IClientOptions, type MqttClient, type Packet, Store } from "mqtt";
import type { Logger } from "../core/log.ts";
import { type ConnectFailure, describeConnectError } from "./connect_error.ts";
import type { ConnectSettings } from "./connect_settings.ts";
import { type BackoffOptions, reconnectDelayMs } from "./reconnect_backoff.ts";
import { identityLabel, type IdentityRef } from "../iothub/mod.ts";

/** A connection's state, for metrics, `ledge check` and tests. */
export interface ConnectionState {
  connected: boolean;
  /** When `connected` last changed (ISO 8601), or null before the first attempt ended. */
  since: string | null;
  /** Why the last attempt failed or the link dropped; null once connected. */
  lastError: string | null;
  /** Kind of `lastError`, for metrics. */
  lastErrorKind: ConnectFailure["kind"] | null;
  /** Failed attempts since the last successful one. */
  attempts: number;
  /** Every attempt since the connection was created. */
  totalAttempts: number;
}

/** A publish that ended without the parent's PUBACK because the link went down or was closed. */
export class UpstreamDisconnectedError extends Error {
  override name = "UpstreamDisconnectedError";
}

/** Options of {@linkcode createUpstreamConnection}. */
export interface UpstreamConnectionOptions {
  identity: IdentityRef;
  /** Settings of the next attempt; may throw (e.g. an unreadable CA file: the attempt fails). */
  settings: () => ConnectSettings;
  /** Topic filters subscribed (QoS 1) after each connect, before the connection counts as up. */
  subscriptions: readonly string[];
  backoff: BackoffOptions;
  logger: Logger;
  /**
   * An incoming PUBLISH. When it returns a promise, the PUBACK (and the next incoming message)
   * waits for it; when that promise rejects, the link is dropped so the parent sends it again.
   */
  onMessage?: (topic: string, payload: Uint8Array) => void | Promise<void>;
  onStateChange?: (state: ConnectionState) => void;
  /** How long the parent has to answer CONNECT. */
  connectTimeoutMs?: number;
  /** Clock (ms since the epoch), for tests. */
  now?: () => number;
}

/** A self-healing connection of one identity. */
export interface UpstreamConnection {
  readonly identity: IdentityRef;
  readonly connected: boolean;
  state(): ConnectionState;
  /**
   * Publishes; resolves on PUBACK (QoS 1) or once written (QoS 0).
   * @throws {UpstreamDisconnectedError} (as a rejection) when not connected or the link drops first.
   */
  publish(topic: string, payload: Uint8Array, options?: { qos?: 0 | 1 }): Promise<void>;
  /** QoS 1 publishes awaiting PUBACK. */
  inflight(): number;
  /** Disconnects for good; pending publishes reject. */
  close(): Promise<void>;
}

interface PendingPublish {
  reject(error: Error): void;
}

/**
 * Creates the connection and starts its first attempt.
 *
 * @example
 * ```ts
 * const connection = createUpstreamConnection({ identity: { deviceId: "child" },
 *   settings: () => connectSettings(...), subscriptions: ["$iothub/methods/POST/#"],
 *   backoff: { baseMs: 1000, maxMs: 60_000 }, logger });
 * await connection.publish("devices/child/messages/events/", body);
 * ```
 */
export function createUpstreamConnection(options: UpstreamConnectionOptions): UpstreamConnection {
  const { identity, logger } = options;
  const now = options.now ?? Date.now;
  const label = identityLabel(identity);
  const pending = new Set<PendingPublish>();
  const state: ConnectionState = {
    connected: false,
    since: null,
    lastError: null,
    lastErrorKind: null,
    attempts: 0,
    totalAttempts: 0,
  };
  let client: MqttClient | undefined;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let renewTimer: ReturnType<typeof setTimeout> | undefined;
  let loggedError: string | null = null;

  function changed(): void {
    try {
      options.onStateChange?.({ ...state });
    } catch (error) {
      logger.error("upstream state listener threw", { identity: label, error });
    }
  }

  function rejectPending(reason: string): void {
    const error = new UpstreamDisconnectedError(`Cannot publish as ${label}: ${reason}`);
    for (const entry of [...pending]) entry.reject(error);
    pending.clear();
  }

  function scheduleRetry(): void {
    if (closed) return;
    const delay = reconnectDelayMs(Math.max(state.attempts, 1), options.backoff);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      attempt();
    }, delay);
  }

  function recordFailure(failure: ConnectFailure): void {
    state.lastError = failure.message;
    state.lastErrorKind = failure.kind;
    // Log once per distinct failure; repeats of the same one are debug noise.
    if (failure.message !== loggedError) {
      loggedError = failure.message;
      const log = failure.kind === "auth" || failure.kind === "tls" || failure.kind === "config"
        ? logger.error
        : logger.warn;
      log("upstream connection failed; retrying with back-off", {
        identity: label,
        kind: failure.kind,
        error: failure.message,
      });
    } else {
      logger.debug("upstream connection failed again", {
        identity: label,
        attempts: state.attempts,
      });
    }
  }

  function attempt(): void {
    if (closed) return;
    state.totalAttempts++;
    let settings: ConnectSettings;
    try {
      settings = options.settings();
    } catch (error) {
      state.attempts++;
      recordFailure({ kind: "config", message: (error as Error).message });
      changed();
      scheduleRetry();
      return;
    }
    const where = `${settings.url} as ${label}`;
    const clientOptions: IClientOptions = {
      clientId: settings.clientId,
      username: settings.username,
      protocolVersion: 4,
      clean: false,
      keepalive: 180,
      reconnectPeriod: 0,
      connectTimeout: options.connectTimeoutMs ?? 30_000,
      rejectUnauthorized: true,
      resubscribe: false,
      // A store that survives `end(true)`: mqtt.js may still handle a PUBACK that was already
      // parsed when the client is ended, and its default store is gone by then.
      outgoingStore: new Store({ clean: false }),
    };
    if (settings.password !== undefined) clientOptions.password = settings.password;
    if (settings.ca !== undefined) clientOptions.ca = settings.ca;
    if (settings.cert !== undefined) clientOptions.cert = settings.cert;
    if (settings.key !== undefined) clientOptions.key = settings.key;
    const current = mqtt.connect(settings.url, clientOptions);
    client = current;
    let lastClientError: unknown;
    let up = false;

    current.handleMessage = (packet: Packet, callback: (error?: Error) => void) => {
      if (packet.cmd !== "publish" || !options.onMessage) return callback();
      const raw = packet.payload;
      const payload = typeof raw === "string"
        ? new TextEncoder().encode(raw)
        : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
      let result: void | Promise<void>;
      try {
        result = options.onMessage(packet.topic, payload);
      } catch (error) {
        logger.error("upstream message handler threw", { identity: label, error });
        return callback();
      }
      if (!(result instanceof Promise)) return callback();
      result.then(() => callback(), (error) => {
        // No PUBACK: drop the link so the parent delivers the message again.
        logger.warn("cannot take a message from the parent; reconnecting for a redelivery", {
          identity: label,
          topic: packet.topic,
          error,
        });
        current.end(true);
      });
    };

    current.on("error", (error) => {
      if (client === current) lastClientError = error;
    });

    current.on("connect", () => {
      if (client !== current) return;
      // Many small PUBLISHes are in flight together; Nagle's algorithm would hold a burst's tail
      // until the parent's delayed ACK (~40 ms).
      (current.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      const filters = Object.fromEntries(
        options.subscriptions.map((f) => [f, { qos: 1 as const }]),
      );
      const subscribed = options.subscriptions.length === 0
        ? Promise.resolve([])
        : current.subscribeAsync(filters);
      subscribed.then((granted) => {
        if (client !== current) return;
        const refused = granted.filter((grant) => grant.qos === 128).map((grant) => grant.topic);
        if (refused.length > 0) {
          lastClientError = new Error(`the parent refused subscriptions ${refused.join(", ")}`);
          current.end(true);
          return;
        }
        up = true;
        state.connected = true;
        state.since = new Date(now()).toISOString();
        state.lastError = null;
        state.lastErrorKind = null;
        state.attempts = 0;
        loggedError = null;
        logger.info("connected to the parent", { identity: label, url: settings.url });
        scheduleRenewal(settings);
        changed();
      }, (error) => {
        if (client !== current) return;
        lastClientError = error;
        current.end(true);
      });
    });

    current.on("close", () => {
      if (client !== current) return;
      client = undefined;
      clearTimeout(renewTimer);
      renewTimer = undefined;
      current.end(true);
      rejectPending("the connection to the parent closed before its PUBACK");
      if (up) {
        state.connected = false;
        state.since = new Date(now()).toISOString();
        state.attempts = 1;
        const failure = lastClientError === undefined
          ? { kind: "network" as const, message: `Connection to ${where} closed by the parent` }
          : describeConnectError(lastClientError, where);
        recordFailure(failure);
      } else {
        state.attempts++;
        if (state.since === null) state.since = new Date(now()).toISOString();
        recordFailure(
          describeConnectError(lastClientError ?? new Error("closed before CONNACK"), where),
        );
      }
      changed();
      if (closed) return;
      scheduleRetry();
    });
  }

  function scheduleRenewal(settings: ConnectSettings): void {
    clearTimeout(renewTimer);
    renewTimer = undefined;
    if (settings.tokenExpiry === undefined) return;
    const lifetimeMs = settings.tokenExpiry * 1000 - now();
    renewTimer = setTimeout(() => {
      renewTimer = undefined;
      const old = client;
      if (!old || closed) return;
      logger.debug("renewing the SAS token by reconnecting", { identity: label });
      // Detach first so its close is not a failure, then connect again at once.
      client = undefined;
      state.connected = false;
      rejectPending("the connection is renewing its SAS token");
      old.end(true);
      changed();
      attempt();
    }, Math.max(1000, lifetimeMs * 0.75));
  }

  attempt();

  return {
    identity,
    get connected() {
      return state.connected;
    },
    state: () => ({ ...state }),
    publish(topic, payload, publishOptions = {}) {
      const qos = publishOptions.qos ?? 1;
      const current = client;
      if (!current || !state.connected) {
        return Promise.reject(
          new UpstreamDisconnectedError(`Cannot publish as ${label}: not connected to the parent`),
        );
      }
      return new Promise<void>((resolve, reject) => {
        let settled = false;
        const entry: PendingPublish = {
          reject(error) {
            if (settled) return;
            settled = true;
            reject(error);
          },
        };
        if (qos === 1) pending.add(entry);
        const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
        current.publish(topic, bytes, { qos }, (error) => {
          if (settled) return;
          settled = true;
          pending.delete(entry);
          if (error) {
            reject(
              new UpstreamDisconnectedError(`Cannot publish as ${label}: ${error.message}`, {
                cause: error,
              }),
            );
          } else resolve();
        });
      });
    },
    inflight: () => pending.size,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(renewTimer);
      const current = client;
      client = undefined;
      rejectPending("the connection was closed");
      if (state.connected) {
        state.connected = false;
        state.since = new Date(now()).toISOString();
        changed();
      }
      if (current) await current.endAsync(true).catch(() => {});
    },
  };
}
