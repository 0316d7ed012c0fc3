/**
 * The running connector: the connection pool to the parent, the forwarder of the `$upstream`
 * queue, the reported-properties sync and the dispatch of what comes down, wired together. A
 * disabled connector answers with the disabled state and refuses twin reads.
 */
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { MetricFamily } from "../core/metric_family.ts";
import { identityKey, identityLabel, type IdentityRef } from "../iothub/mod.ts";
import type { MessageStore } from "../store/mod.ts";
import { type ConnectionPool, createConnectionPool } from "./connection_pool.ts";
import { createDownstream, type Downstream, type UpstreamHandlers } from "./downstream.ts";
import { type Forwarder, startForwarder } from "./forwarder.ts";
import { createReportedSync, type ReportedSync } from "./reported_sync.ts";
import type { TwinPatch } from "./reported_patch.ts";
import type { TwinDocument } from "./twin_requests.ts";
import type { ConnectionState } from "./upstream_connection.ts";
import { upstreamMetricFamilies } from "./upstream_metrics.ts";
import { checkUpstreamConfig, settingsBuilder } from "./upstream_settings.ts";
import { disabledState, type UpstreamState } from "./upstream_state.ts";
import { UPSTREAM_DEAD_LETTER_ENDPOINT, UPSTREAM_ENDPOINT } from "./upstream_queues.ts";

/** How the connector is set up beyond the config. */
export interface ConnectorOptions {
  handlers?: UpstreamHandlers;
  /** Modules of this device whose connections stay open (default `$edgeAgent`, `$edgeHub`). */
  heldModules?: readonly string[];
  /** Reconnect back-off base (default 1000 ms); the cap is `upstream.reconnect_max_seconds`. */
  backoffBaseMs?: number;
  /** Dead-letter after this many drops of the link on a message sent alone (default 5). */
  poisonThreshold?: number;
  now: () => number;
}

/** What a started connector runs. */
interface Running {
  pool: ConnectionPool;
  forwarder: Forwarder;
  reported: ReportedSync;
  downstream: Downstream;
  store: MessageStore;
  releases: (() => void)[];
  failures: Map<string, number>;
  held: Map<string, number>;
  stopped: boolean;
}

/** The connector; nothing connects until {@linkcode UpstreamConnector.start}. */
export class UpstreamConnector {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #options: ConnectorOptions;
  #handlers: UpstreamHandlers;
  #running: Running | undefined;

  constructor(config: Config, logger: Logger, options: ConnectorOptions) {
    this.#config = config;
    this.#logger = logger;
    this.#options = options;
    this.#handlers = options.handlers ?? {};
  }

  /**
   * Connects to the parent and starts forwarding the `$upstream` queue of the store `store`
   * gives (read only when enabled: the hub's store exists once the hub started).
   */
  start(store: () => MessageStore): void {
    const upstream = this.#config.upstream;
    if (!upstream.enabled) {
      this.#logger.debug("upstream disabled");
      return;
    }
    checkUpstreamConfig(upstream);
    const run = this.#build(store());
    this.#running = run;
    for (const moduleId of this.#options.heldModules ?? ["$edgeAgent", "$edgeHub"]) {
      run.releases.push(this.hold({ deviceId: this.#config.device.id, moduleId }));
    }
    this.#logger.info("upstream enabled", {
      parent: `${upstream.hostname}:${upstream.port}`,
      protocol: upstream.protocol,
    });
  }

  async stop(): Promise<void> {
    const run = this.#running;
    if (!run) return;
    run.stopped = true;
    for (const release of run.releases) release();
    run.forwarder.stop();
    run.reported.stop();
    await run.pool.close();
  }

  state(): UpstreamState {
    const run = this.#running;
    if (!run) return disabledState();
    const entries = run.pool.list();
    const connections = entries.map(({ identity, state, held }) => ({
      identity: identityLabel(identity),
      held,
      ...state,
    }));
    const ownKey = identityKey(this.#ownIdentity());
    const device = entries.find((entry) => identityKey(entry.identity) === ownKey)?.state ?? null;
    const queue = run.store.stats().find((queue) => queue.endpoint === UPSTREAM_ENDPOINT);
    const { hostname, port } = this.#config.upstream;
    return {
      enabled: true,
      parent: `${hostname}:${port}`,
      connected: device?.connected ?? false,
      device,
      connections,
      forwarding: {
        ...run.forwarder.stats(),
        queued: queue?.count ?? 0,
        expiredInQueue: queue?.dropped.expired ?? 0,
      },
      reported: { pending: run.reported.pending(), ...run.reported.counters() },
      downstream: run.downstream.counters(),
    };
  }

  async getTwin(identity: IdentityRef): Promise<TwinDocument> {
    const run = this.#running;
    const label = identityLabel(identity);
    if (!run) throw new Error(`Cannot get the twin of ${label}: upstream is not enabled`);
    const entry = run.pool.get(identity);
    if (!entry.connection.connected) {
      const reason = entry.connection.state().lastError ?? "connecting";
      throw new Error(`Cannot get the twin of ${label}: not connected to the parent (${reason})`);
    }
    return await entry.twin.get();
  }

  patchReported(identity: IdentityRef, patch: TwinPatch): Promise<boolean> {
    const run = this.#running;
    if (!run) return Promise.resolve(false);
    return run.reported.patch(identity, patch);
  }

  hold(identity: IdentityRef): () => void {
    const run = this.#running;
    if (!run) return () => {};
    const key = identityKey(identity);
    run.held.set(key, (run.held.get(key) ?? 0) + 1);
    const release = run.pool.hold(identity);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      run.held.set(key, (run.held.get(key) ?? 1) - 1);
      if (!run.stopped) release();
    };
  }

  setHandlers(handlers: UpstreamHandlers): void {
    this.#handlers = handlers;
  }

  metricFamilies(): MetricFamily[] {
    return upstreamMetricFamilies(() => this.state(), () => this.failures());
  }

  /** Failed connection attempts so far, by identity label. */
  failures(): ReadonlyMap<string, number> {
    return this.#running?.failures ?? new Map();
  }

  #ownIdentity(): IdentityRef {
    return { deviceId: this.#config.device.id };
  }

  #build(store: MessageStore): Running {
    const config = this.#config;
    const logger = this.#logger;
    const now = this.#options.now;
    const baseMs = this.#options.backoffBaseMs ?? 1000;
    const backoff = {
      baseMs,
      maxMs: Math.max(baseMs, config.upstream.reconnect_max_seconds * 1000),
    };
    const late: { run?: Running } = {};
    const downstream = createDownstream({
      handlers: () => this.#handlers,
      reply: (identity, topic, payload) =>
        late.run!.pool.get(identity).connection.publish(topic, payload, { qos: 0 }),
      logger,
    });
    const pool = createConnectionPool({
      ownDeviceId: config.device.id,
      settingsFor: settingsBuilder(config, now),
      backoff,
      idleTimeoutMs: config.upstream.idle_timeout_seconds * 1000,
      logger,
      now,
      inUse: (identity) =>
        late.run !== undefined &&
        (late.run.forwarder.hasWork(identity) || late.run.reported.hasWork(identity)),
      onMessage: (identity, topic, payload) => downstream.dispatch(identity, topic, payload),
      onStateChange: (identity, state) => {
        if (late.run !== undefined && !late.run.stopped) this.#changed(late.run, identity, state);
      },
    });
    const forwarder = startForwarder({
      store,
      endpoint: UPSTREAM_ENDPOINT,
      deadLetterEndpoint: UPSTREAM_DEAD_LETTER_ENDPOINT,
      connectionOf: (identity) => pool.get(identity),
      ownDeviceId: config.device.id,
      window: config.upstream.max_inflight,
      maxMessageBytes: config.upstream.max_message_bytes,
      logger,
      now,
      ...(this.#options.poisonThreshold ? { poisonThreshold: this.#options.poisonThreshold } : {}),
    });
    const reported = createReportedSync({ connectionOf: (id) => pool.get(id), backoff, logger });
    late.run = {
      pool,
      forwarder,
      reported,
      downstream,
      store,
      releases: [],
      failures: new Map(),
      held: new Map(),
      stopped: false,
    };
    return late.run;
  }

  /** A connection to the parent came up or went down. */
  #changed(run: Running, identity: IdentityRef, state: ConnectionState): void {
    if (state.connected) {
      const own = identityKey(identity) === identityKey(this.#ownIdentity());
      // Catching up starts by dropping (and counting) what expired while the link was down.
      if (own) this.#purgeExpired(run);
      run.forwarder.wake();
      run.reported.connectionUp(identity);
      const held = (run.held.get(identityKey(identity)) ?? 0) > 0;
      if (own || held) void this.#fetchTwin(run, identity);
      return;
    }
    run.forwarder.connectionDown(identity);
    if (state.attempts > 0) {
      const key = identityLabel(identity);
      run.failures.set(key, (run.failures.get(key) ?? 0) + 1);
    }
  }

  async #fetchTwin(run: Running, identity: IdentityRef): Promise<void> {
    const onTwin = this.#handlers.onTwin;
    if (!onTwin) return;
    try {
      const twin = await run.pool.get(identity).twin.get();
      if (!run.stopped) await onTwin(identity, twin);
    } catch (error) {
      this.#logger.warn("cannot fetch the twin after connecting", {
        identity: identityLabel(identity),
        error,
      });
    }
  }

  #purgeExpired(run: Running): void {
    try {
      const purged = run.store.purgeExpired();
      if (purged > 0) {
        this.#logger.info("expired messages dropped before forwarding", { count: purged });
      }
    } catch (error) {
      this.#logger.warn("cannot purge expired messages", { error });
    }
  }
}
