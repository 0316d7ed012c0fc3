/**
 * The upstream connector as a daemon component: the connections to the parent, the forwarder of
 * the `$upstream` queue, the reported-properties sync and the dispatch of what comes down. The
 * parts: upstream_connector.ts (the running connector, imported by lazy_connector.ts only when
 * enabled), upstream_settings.ts (config and credentials), upstream_state.ts, upstream_metrics.ts,
 * upstream_api.ts.
 */
import type { Component, RuntimeContext } from "../core/component.ts";
import type { MetricFamily } from "../core/metric_family.ts";
import type { IdentityRef } from "../iothub/mod.ts";
import type { MessageStore } from "../store/mod.ts";
import type { UpstreamHandlers } from "./downstream.ts";
import type { TwinPatch } from "./reported_patch.ts";
import type { TwinDocument } from "./twin_requests.ts";
import { createUpstreamApi, UPSTREAM_API_DOCS } from "./upstream_api.ts";
import { LazyConnector } from "./lazy_connector.ts";
import type { UpstreamState } from "./upstream_state.ts";

export { createUpstreamApi, UPSTREAM_API_DOCS, type UpstreamApi } from "./upstream_api.ts";
export { UPSTREAM_DEAD_LETTER_ENDPOINT, UPSTREAM_ENDPOINT } from "./upstream_queues.ts";
export { upstreamMetricFamilies } from "./upstream_metrics.ts";
export { checkUpstreamConfig } from "./upstream_settings.ts";
export type { UpstreamState } from "./upstream_state.ts";

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

/**
 * Creates the upstream component; a no-op when `upstream.enabled` is false. Start it after the
 * hub (it drains the hub's store) and stop it before.
 *
 * @example
 * ```ts
 * const upstream = createUpstreamComponent(context, { store: () => hub.store });
 * upstream.upstream.setHandlers({ onDesired: (identity, patch) => { ... } });
 * ```
 */
export function createUpstreamComponent(
  context: RuntimeContext,
  options: UpstreamComponentOptions,
): UpstreamComponent {
  const connector = new LazyConnector(context.config, context.logger.child("upstream"), {
    ...options,
    now: options.now ?? Date.now,
  });
  const upstream: Upstream = {
    state: () => connector.state(),
    getTwin: (identity) => connector.getTwin(identity),
    patchReported: (identity, patch) => connector.patchReported(identity, patch),
    hold: (identity) => connector.hold(identity),
    setHandlers: (handlers) => connector.setHandlers(handlers),
    metricFamilies: () => connector.metricFamilies(),
  };
  return {
    name: "upstream",
    upstream,
    api: createUpstreamApi(() => connector.state()),
    apiDocs: UPSTREAM_API_DOCS,
    async start() {
      const store = options.store;
      await connector.start(() => typeof store === "function" ? store() : store);
    },
    stop: () => connector.stop(),
  };
}
