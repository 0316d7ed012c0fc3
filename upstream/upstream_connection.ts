/**
 * One MQTT connection to the parent for one identity, kept up by itself: each attempt builds fresh
 * settings (a fresh SAS token), subscribes to the identity's topics, and after any failure or drop
 * waits a capped exponential back-off with jitter before the next. A SAS connection reconnects at
 * 3/4 of its token's lifetime to renew it, as the Azure IoT SDK does.
 */
import { Buffer } from "node:buffer";
import type { IClientOptions, MqttClient, Packet } from "mqtt";
import type { Logger } from "../core/log.ts";
import { type ConnectFailure, describeConnectError } from "./connect_error.ts";
import type { ConnectSettings } from "./connect_settings.ts";
import { type BackoffOptions, reconnectDelayMs } from "./reconnect_backoff.ts";
import { identityLabel, type IdentityRef } from "../iothub/mod.ts";

type MqttLibrary = typeof import("mqtt");
let mqttLibrary: MqttLibrary | undefined;

/**
 * mqtt.js, loaded when the first connection to a parent is attempted: a device without an upstream
 * never holds it in memory.
 */
async function loadMqtt(): Promise<MqttLibrary> {
  mqttLibrary ??= await import("mqtt");
  return mqttLibrary;
}

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

/** One attempt: its client, whether it came up, and the client's last error. */
interface Attempt {
  client: MqttClient;
  settings: ConnectSettings;
  where: string;
  up: boolean;
  lastError: unknown;
}

/** The connection: one mqtt.js client per attempt, replaced after each drop. */
class MqttUpstreamConnection implements UpstreamConnection {
  readonly identity: IdentityRef;
  readonly #options: UpstreamConnectionOptions;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #label: string;
  readonly #pending = new Set<PendingPublish>();
  readonly #state: ConnectionState = {
    connected: false,
    since: null,
    lastError: null,
    lastErrorKind: null,
    attempts: 0,
    totalAttempts: 0,
  };
  #client: MqttClient | undefined;
  #closed = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #loggedError: string | null = null;

  constructor(options: UpstreamConnectionOptions) {
    this.identity = options.identity;
    this.#options = options;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#label = identityLabel(options.identity);
    this.#attempt();
  }

  get connected(): boolean {
    return this.#state.connected;
  }

  state(): ConnectionState {
    return { ...this.#state };
  }

  publish(topic: string, payload: Uint8Array, publishOptions: { qos?: 0 | 1 } = {}): Promise<void> {
    const qos = publishOptions.qos ?? 1;
    const current = this.#client;
    const label = this.#label;
    if (!current || !this.#state.connected) {
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
      if (qos === 1) this.#pending.add(entry);
      const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      current.publish(topic, bytes, { qos }, (error) => {
        if (settled) return;
        settled = true;
        this.#pending.delete(entry);
        if (!error) return resolve();
        reject(
          new UpstreamDisconnectedError(`Cannot publish as ${label}: ${error.message}`, {
            cause: error,
          }),
        );
      });
    });
  }

  inflight(): number {
    return this.#pending.size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#renewTimer);
    const current = this.#client;
    this.#client = undefined;
    this.#rejectPending("the connection was closed");
    if (this.#state.connected) {
      this.#state.connected = false;
      this.#state.since = new Date(this.#now()).toISOString();
      this.#changed();
    }
    if (current) await current.endAsync(true).catch(() => {});
  }

  #changed(): void {
    try {
      this.#options.onStateChange?.({ ...this.#state });
    } catch (error) {
      this.#logger.error("upstream state listener threw", { identity: this.#label, error });
    }
  }

  #rejectPending(reason: string): void {
    const error = new UpstreamDisconnectedError(`Cannot publish as ${this.#label}: ${reason}`);
    for (const entry of [...this.#pending]) entry.reject(error);
    this.#pending.clear();
  }

  #scheduleRetry(): void {
    if (this.#closed) return;
    const delay = reconnectDelayMs(Math.max(this.#state.attempts, 1), this.#options.backoff);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#attempt();
    }, delay);
  }

  #recordFailure(failure: ConnectFailure): void {
    this.#state.lastError = failure.message;
    this.#state.lastErrorKind = failure.kind;
    // Log once per distinct failure; repeats of the same one are debug noise.
    if (failure.message === this.#loggedError) {
      this.#logger.debug("upstream connection failed again", {
        identity: this.#label,
        attempts: this.#state.attempts,
      });
      return;
    }
    this.#loggedError = failure.message;
    const serious = failure.kind === "auth" || failure.kind === "tls" || failure.kind === "config";
    (serious ? this.#logger.error : this.#logger.warn)(
      "upstream connection failed; retrying with back-off",
      { identity: this.#label, kind: failure.kind, error: failure.message },
    );
  }

  #attempt(): void {
    if (this.#closed) return;
    const mqtt = mqttLibrary;
    if (mqtt === undefined) {
      loadMqtt().then(() => this.#attempt(), (error) => {
        this.#recordFailure({ kind: "config", message: `Cannot load the MQTT client: ${error}` });
        this.#scheduleRetry();
      });
      return;
    }
    this.#state.totalAttempts++;
    let settings: ConnectSettings;
    try {
      settings = this.#options.settings();
    } catch (error) {
      this.#state.attempts++;
      this.#recordFailure({ kind: "config", message: (error as Error).message });
      this.#changed();
      this.#scheduleRetry();
      return;
    }
    const client = mqtt.default.connect(settings.url, this.#clientOptions(settings, mqtt));
    this.#client = client;
    const attempt: Attempt = {
      client,
      settings,
      where: `${settings.url} as ${this.#label}`,
      up: false,
      lastError: undefined,
    };
    client.handleMessage = (packet, callback) => this.#handleMessage(attempt, packet, callback);
    client.on("error", (error) => {
      if (this.#client === client) attempt.lastError = error;
    });
    client.on("connect", () => this.#onConnect(attempt));
    client.on("close", () => this.#onClose(attempt));
  }

  #clientOptions(settings: ConnectSettings, mqtt: MqttLibrary): IClientOptions {
    const clientOptions: IClientOptions = {
      clientId: settings.clientId,
      username: settings.username,
      protocolVersion: 4,
      clean: false,
      keepalive: 180,
      reconnectPeriod: 0,
      connectTimeout: this.#options.connectTimeoutMs ?? 30_000,
      rejectUnauthorized: true,
      resubscribe: false,
      // A store that survives `end(true)`: mqtt.js may still handle a PUBACK that was already
      // parsed when the client is ended, and its default store is gone by then.
      outgoingStore: new mqtt.Store({ clean: false }),
    };
    if (settings.password !== undefined) clientOptions.password = settings.password;
    if (settings.ca !== undefined) clientOptions.ca = settings.ca;
    if (settings.cert !== undefined) clientOptions.cert = settings.cert;
    if (settings.key !== undefined) clientOptions.key = settings.key;
    return clientOptions;
  }

  /** An incoming PUBLISH: its PUBACK waits for the handler; a failure drops the link. */
  #handleMessage(attempt: Attempt, packet: Packet, callback: (error?: Error) => void): void {
    const onMessage = this.#options.onMessage;
    if (packet.cmd !== "publish" || !onMessage) return callback();
    const raw = packet.payload;
    const payload = typeof raw === "string"
      ? new TextEncoder().encode(raw)
      : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    let result: void | Promise<void>;
    try {
      result = onMessage(packet.topic, payload);
    } catch (error) {
      this.#logger.error("upstream message handler threw", { identity: this.#label, error });
      return callback();
    }
    if (!(result instanceof Promise)) return callback();
    result.then(() => callback(), (error) => {
      // No PUBACK: drop the link so the parent delivers the message again.
      this.#logger.warn("cannot take a message from the parent; reconnecting for a redelivery", {
        identity: this.#label,
        topic: packet.topic,
        error,
      });
      attempt.client.end(true);
    });
  }

  #onConnect(attempt: Attempt): void {
    const current = attempt.client;
    if (this.#client !== current) return;
    // Many small PUBLISHes are in flight together; Nagle's algorithm would hold a burst's tail
    // until the parent's delayed ACK (~40 ms).
    (current.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    const subscriptions = this.#options.subscriptions;
    const filters = Object.fromEntries(subscriptions.map((f) => [f, { qos: 1 as const }]));
    const subscribed = subscriptions.length === 0
      ? Promise.resolve([])
      : current.subscribeAsync(filters);
    subscribed.then((granted) => {
      if (this.#client !== current) return;
      const refused = granted.filter((grant) => grant.qos === 128).map((grant) => grant.topic);
      if (refused.length > 0) {
        attempt.lastError = new Error(`the parent refused subscriptions ${refused.join(", ")}`);
        current.end(true);
        return;
      }
      attempt.up = true;
      const state = this.#state;
      state.connected = true;
      state.since = new Date(this.#now()).toISOString();
      state.lastError = null;
      state.lastErrorKind = null;
      state.attempts = 0;
      this.#loggedError = null;
      this.#logger.info("connected to the parent", {
        identity: this.#label,
        url: attempt.settings.url,
      });
      this.#scheduleRenewal(attempt.settings);
      this.#changed();
    }, (error) => {
      if (this.#client !== current) return;
      attempt.lastError = error;
      current.end(true);
    });
  }

  #onClose(attempt: Attempt): void {
    const current = attempt.client;
    if (this.#client !== current) return;
    this.#client = undefined;
    clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    current.end(true);
    this.#rejectPending("the connection to the parent closed before its PUBACK");
    const state = this.#state;
    if (attempt.up) {
      state.connected = false;
      state.since = new Date(this.#now()).toISOString();
      state.attempts = 1;
      this.#recordFailure(
        attempt.lastError === undefined
          ? { kind: "network", message: `Connection to ${attempt.where} closed by the parent` }
          : describeConnectError(attempt.lastError, attempt.where),
      );
    } else {
      state.attempts++;
      if (state.since === null) state.since = new Date(this.#now()).toISOString();
      const error = attempt.lastError ?? new Error("closed before CONNACK");
      this.#recordFailure(describeConnectError(error, attempt.where));
    }
    this.#changed();
    if (!this.#closed) this.#scheduleRetry();
  }

  #scheduleRenewal(settings: ConnectSettings): void {
    clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    if (settings.tokenExpiry === undefined) return;
    const lifetimeMs = settings.tokenExpiry * 1000 - this.#now();
    this.#renewTimer = setTimeout(() => {
      this.#renewTimer = undefined;
      const old = this.#client;
      if (!old || this.#closed) return;
      this.#logger.debug("renewing the SAS token by reconnecting", { identity: this.#label });
      // Detach first so its close is not a failure, then connect again at once.
      this.#client = undefined;
      this.#state.connected = false;
      this.#rejectPending("the connection is renewing its SAS token");
      old.end(true);
      this.#changed();
      this.#attempt();
    }, Math.max(1000, lifetimeMs * 0.75));
  }
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
  return new MqttUpstreamConnection(options);
}
