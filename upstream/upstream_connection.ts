/**
 * One MQTT connection to the parent for one identity, kept up by itself: each attempt builds fresh
 * settings (a fresh SAS token), subscribes to the identity's topics, and after any failure or drop
 * waits a capped exponential back-off with jitter before the next. A SAS connection reconnects at
 * 3/4 of its token's lifetime to renew it, as the Azure IoT SDK does.
 */
import type { Logger } from "../core/log.ts";
import { type ConnectFailure, describeConnectError } from "./connect_error.ts";
import type { ConnectSettings } from "./connect_settings.ts";
import { type BackoffOptions, reconnectDelayMs } from "./reconnect_backoff.ts";
import { identityLabel, type IdentityRef } from "../iothub/mod.ts";
import type { LinkClient, LinkClientFactory, LinkHandlers } from "./link_client.ts";
import { NativeLinkClient } from "./native_link_client.ts";
import { loadMqttJs, mqttJsLinkClient, mqttJsLoaded } from "./mqttjs_link_client.ts";

/** The link's keep-alive, as the Azure IoT device SDK sets it. */
const KEEPALIVE_SECONDS = 180;

/** ledge's own client over native TLS for `mqtts`; mqtt.js for `wss`, loaded on first use. */
function clientFactory(url: string): LinkClientFactory | undefined {
  if (url.startsWith("mqtts:")) {
    return (settings, options, handlers) => new NativeLinkClient(settings, options, handlers);
  }
  return mqttJsLoaded() ? mqttJsLinkClient : undefined;
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
  client: LinkClient;
  settings: ConnectSettings;
  where: string;
  up: boolean;
  lastError: unknown;
}

/** The connection: one client per attempt, replaced after each drop. */
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
  #client: LinkClient | undefined;
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
      current.publish(topic, payload, qos, (error) => {
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
    if (current) await current.endAsync().catch(() => {});
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
    let settings: ConnectSettings;
    try {
      settings = this.#options.settings();
    } catch (error) {
      this.#state.totalAttempts++;
      this.#state.attempts++;
      this.#recordFailure({ kind: "config", message: (error as Error).message });
      this.#changed();
      this.#scheduleRetry();
      return;
    }
    const factory = clientFactory(settings.url);
    if (factory === undefined) {
      loadMqttJs().then(() => this.#attempt(), (error) => {
        this.#recordFailure({ kind: "config", message: `Cannot load the MQTT client: ${error}` });
        this.#scheduleRetry();
      });
      return;
    }
    this.#state.totalAttempts++;
    const attempt = {
      settings,
      where: `${settings.url} as ${this.#label}`,
      up: false,
      lastError: undefined,
    } as Attempt;
    const handlers: LinkHandlers = {
      connected: () => this.#onConnect(attempt),
      error: (error) => {
        if (this.#client === attempt.client) attempt.lastError = error;
      },
      closed: () => this.#onClose(attempt),
      message: (topic, payload) => this.#handleMessage(topic, payload),
    };
    attempt.client = factory(settings, {
      connectTimeoutMs: this.#options.connectTimeoutMs ?? 30_000,
      keepaliveSeconds: KEEPALIVE_SECONDS,
    }, handlers);
    this.#client = attempt.client;
  }

  /** An incoming PUBLISH: its PUBACK waits for the handler; a rejection drops the link. */
  #handleMessage(topic: string, payload: Uint8Array): void | Promise<void> {
    const onMessage = this.#options.onMessage;
    if (!onMessage) return;
    let result: void | Promise<void>;
    try {
      result = onMessage(topic, payload);
    } catch (error) {
      this.#logger.error("upstream message handler threw", { identity: this.#label, error });
      return;
    }
    if (!(result instanceof Promise)) return;
    return result.catch((error) => {
      this.#logger.warn("cannot take a message from the parent; reconnecting for a redelivery", {
        identity: this.#label,
        topic,
        error,
      });
      throw error;
    });
  }

  #onConnect(attempt: Attempt): void {
    const current = attempt.client;
    if (this.#client !== current) return;
    const subscriptions = this.#options.subscriptions;
    const subscribed = subscriptions.length === 0
      ? Promise.resolve([])
      : current.subscribe(subscriptions);
    subscribed.then((granted) => {
      if (this.#client !== current) return;
      const refused = subscriptions.filter((_, i) => granted[i] === 128);
      if (refused.length > 0) {
        attempt.lastError = new Error(`the parent refused subscriptions ${refused.join(", ")}`);
        current.end();
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
      current.end();
    });
  }

  #onClose(attempt: Attempt): void {
    const current = attempt.client;
    if (this.#client !== current) return;
    this.#client = undefined;
    clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    current.end();
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
      old.end();
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
