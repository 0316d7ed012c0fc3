/**
 * The upstream connector as a daemon component: the connections to the parent, the forwarder of
 * the `$upstream` queue, the reported-properties sync and the dispatch of what comes down.
 */
import type { ApiDocs } from "../core/api.ts";
import { Hono } from "hono";
import type { Component, RuntimeContext } from "../core/component.ts";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { MetricFamily } from "../core/metric_family.ts";
import type { MessageStore } from "../store/mod.ts";
import { type ConnectionPool, createConnectionPool } from "./connection_pool.ts";
import {
  type ConnectSettings,
  connectSettings,
  type ParentEndpoint,
  type UpstreamCredential,
} from "./connect_settings.ts";
import { createDownstream, type DownstreamCounters, type UpstreamHandlers } from "./downstream.ts";
import { type Forwarder, type ForwarderStats, startForwarder } from "./forwarder.ts";
import { derivedSasKey, identityKey, identityLabel, type IdentityRef } from "../iothub/mod.ts";
import { createReportedSync, type ReportedSync } from "./reported_sync.ts";
import type { TwinPatch } from "./reported_patch.ts";
import type { TwinDocument } from "./twin_requests.ts";
import type { ConnectionState } from "./upstream_connection.ts";

/** The queue the forwarder drains: the route table's endpoint key of `$upstream`. */
export const UPSTREAM_ENDPOINT = "$upstream";
/** The queue of messages the parent can never take. */
export const UPSTREAM_DEAD_LETTER_ENDPOINT = "$deadletter/$upstream";

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

/** The connector as the rest of ledge uses it. */
export interface Upstream {
  state(): UpstreamState;
  /**
   * The twin of `identity` on the parent.
   * @throws {Error} (as a rejection) when disabled or not connected; {@linkcode TwinRequestError}
   * when the parent answers with an error or not at all.
   */
  getTwin(identity: IdentityRef): Promise<TwinDocument>;
  /**
   * Queues a reported patch of `identity` (merged with others waiting, retried until accepted).
   * Resolves true once the parent took it; false when it refused it or the connector stopped.
   */
  patchReported(identity: IdentityRef, patch: TwinPatch): Promise<boolean>;
  /**
   * Keeps `identity`'s connection open (and its twin fetched on each connect) until the
   * returned function is called: for a module connected locally, so methods and desired patches
   * for it reach ledge.
   */
  hold(identity: IdentityRef): () => void;
  /** Sets the handlers of what comes down; replaces the previous ones. */
  setHandlers(handlers: UpstreamHandlers): void;
  /** Metric families for the metrics component (read at scrape time). */
  metricFamilies(): MetricFamily[];
}

/** The upstream component. */
export interface UpstreamComponent extends Component {
  readonly upstream: Upstream;
}

/** Options of {@linkcode createUpstreamComponent}. */
export interface UpstreamComponentOptions {
  /** The hub's message store, or a function giving it once the hub has started. */
  store: MessageStore | (() => MessageStore);
  handlers?: UpstreamHandlers;
  /** Modules of this device whose connections stay open (default `$edgeAgent`, `$edgeHub`). */
  heldModules?: readonly string[];
  /** Reconnect back-off base (default 1000 ms); the cap is `upstream.reconnect_max_seconds`. */
  backoffBaseMs?: number;
  /** Dead-letter after this many drops of the link on a message sent alone (default 5). */
  poisonThreshold?: number;
  now?: () => number;
}

function readFile(path: string, field: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new Error(`Cannot read upstream.${field} ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Checks the `[upstream]` keys that only matter when it is enabled. */
export function checkUpstreamConfig(upstream: Config["upstream"]): void {
  const hasKey = upstream.shared_access_key !== "";
  const hasCert = upstream.cert_file !== "" || upstream.key_file !== "";
  if (!hasKey && !hasCert) {
    throw new Error(
      "Cannot start upstream: set upstream.shared_access_key, or upstream.cert_file and upstream.key_file",
    );
  }
  if (hasCert && (upstream.cert_file === "" || upstream.key_file === "")) {
    const missing = upstream.cert_file === "" ? "cert_file" : "key_file";
    throw new Error(`Cannot start upstream: upstream.${missing} is empty but its pair is set`);
  }
  if (hasKey) {
    const key = upstream.shared_access_key;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) {
      throw new Error("Cannot start upstream: upstream.shared_access_key is not base64");
    }
  }
}

/** The settings builder: credentials per identity, files read per attempt (so fixes apply). */
function settingsBuilder(
  config: Config,
  now: () => number,
): (identity: IdentityRef) => ConnectSettings {
  const upstream = config.upstream;
  const ownDeviceId = config.device.id;
  return (identity) => {
    const parent: ParentEndpoint = {
      hostname: upstream.hostname,
      port: upstream.port,
      protocol: upstream.protocol,
      caPem: upstream.ca_file === "" ? undefined : readFile(upstream.ca_file, "ca_file"),
    };
    const own = identity.moduleId === undefined &&
      identity.deviceId.toLowerCase() === ownDeviceId.toLowerCase();
    let credential: UpstreamCredential;
    if (own && upstream.cert_file !== "") {
      credential = {
        kind: "x509",
        certPem: readFile(upstream.cert_file, "cert_file"),
        keyPem: readFile(upstream.key_file, "key_file"),
      };
    } else if (upstream.shared_access_key !== "") {
      const keyBase64 = derivedSasKey(identity, {
        ownDeviceId,
        deviceKeyBase64: upstream.shared_access_key,
      });
      credential = { kind: "sas", keyBase64 };
    } else {
      throw new Error(
        `Cannot connect ${identityLabel(identity)} upstream: ` +
          "its key is derived from upstream.shared_access_key, which is empty",
      );
    }
    return connectSettings(identity, {
      parent,
      credential,
      nowSeconds: now() / 1000,
      tokenLifetimeSeconds: upstream.token_lifetime_seconds,
    });
  };
}

interface Running {
  pool: ConnectionPool;
  forwarder: Forwarder;
  reported: ReportedSync;
  downstream: ReturnType<typeof createDownstream>;
  store: MessageStore;
  releases: (() => void)[];
  failures: Map<string, number>;
  held: Map<string, number>;
  stopped: boolean;
}

function disabledState(): UpstreamState {
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

/**
 * Creates the upstream component; a no-op when `upstream.enabled` is false. Start it after the
 * hub (it drains the hub's store) and stop it before.
 *
 * @example
 * ```ts
 * const upstream = createUpstreamComponent(context, { store: () => hub.store });
 * upstream.upstream.setHandlers({ onDesired: (identity, patch) => { … } });
 * ```
 */
export function createUpstreamComponent(
  context: RuntimeContext,
  options: UpstreamComponentOptions,
): UpstreamComponent {
  const { config } = context;
  const logger: Logger = context.logger.child("upstream");
  const now = options.now ?? Date.now;
  let handlers: UpstreamHandlers = options.handlers ?? {};
  let running: Running | undefined;

  function ownIdentity(): IdentityRef {
    return { deviceId: config.device.id };
  }

  function isHeld(identity: IdentityRef): boolean {
    return (running?.held.get(identityKey(identity)) ?? 0) > 0;
  }

  async function fetchTwin(run: Running, identity: IdentityRef): Promise<void> {
    const onTwin = handlers.onTwin;
    if (!onTwin) return;
    try {
      const twin = await run.pool.get(identity).twin.get();
      if (!run.stopped) await onTwin(identity, twin);
    } catch (error) {
      logger.warn("cannot fetch the twin after connecting", {
        identity: identityLabel(identity),
        error,
      });
    }
  }

  function purgeExpired(run: Running): void {
    try {
      const purged = run.store.purgeExpired();
      if (purged > 0) logger.info("expired messages dropped before forwarding", { count: purged });
    } catch (error) {
      logger.warn("cannot purge expired messages", { error });
    }
  }

  function start(): Promise<void> {
    if (!config.upstream.enabled) {
      logger.debug("upstream disabled");
      return Promise.resolve();
    }
    checkUpstreamConfig(config.upstream);
    const store = typeof options.store === "function" ? options.store() : options.store;
    const backoff = {
      baseMs: options.backoffBaseMs ?? 1000,
      maxMs: Math.max(options.backoffBaseMs ?? 1000, config.upstream.reconnect_max_seconds * 1000),
    };
    const late: { run?: Running } = {};
    const downstream = createDownstream({
      handlers: () => handlers,
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
      onStateChange(identity, state) {
        const run = late.run;
        if (run === undefined || run.stopped) return;
        if (state.connected) {
          const own = identityKey(identity) === identityKey(ownIdentity());
          // Catching up starts by dropping (and counting) what expired while the link was down.
          if (own) purgeExpired(run);
          run.forwarder.wake();
          run.reported.connectionUp(identity);
          if (own || isHeld(identity)) void fetchTwin(run, identity);
        } else {
          run.forwarder.connectionDown(identity);
          if (state.attempts > 0) {
            const key = identityLabel(identity);
            run.failures.set(key, (run.failures.get(key) ?? 0) + 1);
          }
        }
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
      ...(options.poisonThreshold ? { poisonThreshold: options.poisonThreshold } : {}),
    });
    const reported = createReportedSync({
      connectionOf: (identity) => pool.get(identity),
      backoff,
      logger,
    });
    const run: Running = {
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
    late.run = run;
    running = run;
    for (const moduleId of options.heldModules ?? ["$edgeAgent", "$edgeHub"]) {
      run.releases.push(upstream.hold({ deviceId: config.device.id, moduleId }));
    }
    logger.info("upstream enabled", {
      parent: `${config.upstream.hostname}:${config.upstream.port}`,
      protocol: config.upstream.protocol,
    });
    return Promise.resolve();
  }

  function state(): UpstreamState {
    const run = running;
    if (!run) return disabledState();
    const connections = run.pool.list().map(({ identity, state, held }) => ({
      identity: identityLabel(identity),
      held,
      ...state,
    }));
    const ownKey = identityKey(ownIdentity());
    const device = run.pool.list().find((entry) => identityKey(entry.identity) === ownKey)?.state ??
      null;
    const queue = run.store.stats().find((queue) => queue.endpoint === UPSTREAM_ENDPOINT);
    const queued = queue?.count ?? 0;
    const expiredInQueue = queue?.dropped.expired ?? 0;
    return {
      enabled: true,
      parent: `${config.upstream.hostname}:${config.upstream.port}`,
      connected: device?.connected ?? false,
      device,
      connections,
      forwarding: { ...run.forwarder.stats(), queued, expiredInQueue },
      reported: { pending: run.reported.pending(), ...run.reported.counters() },
      downstream: run.downstream.counters(),
    };
  }

  const upstream: Upstream = {
    state,
    async getTwin(identity) {
      const run = running;
      const label = identityLabel(identity);
      if (!run) throw new Error(`Cannot get the twin of ${label}: upstream is not enabled`);
      const entry = run.pool.get(identity);
      if (!entry.connection.connected) {
        const reason = entry.connection.state().lastError ?? "connecting";
        throw new Error(`Cannot get the twin of ${label}: not connected to the parent (${reason})`);
      }
      return await entry.twin.get();
    },
    patchReported(identity, patch) {
      const run = running;
      if (!run) return Promise.resolve(false);
      return run.reported.patch(identity, patch);
    },
    hold(identity) {
      const run = running;
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
    },
    setHandlers(next) {
      handlers = next;
    },
    metricFamilies() {
      return upstreamMetricFamilies(state, () => running?.failures ?? new Map());
    },
  };

  return {
    name: "upstream",
    upstream,
    api: createUpstreamApi(state),
    apiDocs: UPSTREAM_API_DOCS,
    start,
    async stop() {
      const run = running;
      if (!run) return;
      run.stopped = true;
      for (const release of run.releases) release();
      run.forwarder.stop();
      run.reported.stop();
      await run.pool.close();
    },
  };
}

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

/** The upstream routes: the link's state for `ledge check` and operators. */
export function createUpstreamApi(state: () => UpstreamState) {
  return new Hono().get("/v1/upstream", (c) => c.json(state()));
}

/** The upstream routes, as hono's typed client (`hc`) sees them. */
export type UpstreamApi = ReturnType<typeof createUpstreamApi>;

/** The OpenAPI documentation of the upstream routes. */
export const UPSTREAM_API_DOCS: ApiDocs = {
  "GET /v1/upstream": {
    summary: "Upstream connection state (parent, connected, backlog)",
    tag: "upstream",
  },
};
