/**
 * The upstream connector, loaded when it starts with `upstream.enabled`: a device without a
 * parent never loads the connection pool, the MQTT link clients, the forwarder or the reported
 * sync (13 modules, ~0.6 MB of idle RSS). Until the connector is loaded it answers as a connector
 * that is not running does: the disabled state, no twin, nothing held.
 */
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { MetricFamily } from "../core/metric_family.ts";
import { identityLabel, type IdentityRef } from "../iothub/mod.ts";
import type { MessageStore } from "../store/mod.ts";
import type { UpstreamHandlers } from "./downstream.ts";
import type { TwinPatch } from "./reported_patch.ts";
import type { TwinDocument } from "./twin_requests.ts";
import type { ConnectorOptions, UpstreamConnector } from "./upstream_connector.ts";
import { upstreamMetricFamilies } from "./upstream_metrics.ts";
import { disabledState, type UpstreamState } from "./upstream_state.ts";

/** {@linkcode UpstreamConnector}, imported by {@linkcode LazyConnector.start} when enabled. */
export class LazyConnector {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #options: ConnectorOptions;
  #handlers: UpstreamHandlers;
  #connector: UpstreamConnector | undefined;

  constructor(config: Config, logger: Logger, options: ConnectorOptions) {
    this.#config = config;
    this.#logger = logger;
    this.#options = options;
    this.#handlers = options.handlers ?? {};
  }

  /** Loads and starts the connector when `upstream.enabled`; see UpstreamConnector.start. */
  async start(store: () => MessageStore): Promise<void> {
    if (!this.#config.upstream.enabled) {
      this.#logger.debug("upstream disabled");
      return;
    }
    let loaded: typeof import("./upstream_connector.ts");
    try {
      loaded = await import("./upstream_connector.ts");
    } catch (error) {
      throw new Error("Cannot start the upstream link: its code failed to load", { cause: error });
    }
    const connector = new loaded.UpstreamConnector(this.#config, this.#logger, {
      ...this.#options,
      handlers: this.#handlers,
    });
    connector.start(store);
    this.#connector = connector;
  }

  async stop(): Promise<void> {
    await this.#connector?.stop();
  }

  state(): UpstreamState {
    return this.#connector?.state() ?? disabledState();
  }

  getTwin(identity: IdentityRef): Promise<TwinDocument> {
    if (this.#connector) return this.#connector.getTwin(identity);
    const label = identityLabel(identity);
    return Promise.reject(new Error(`Cannot get the twin of ${label}: upstream is not enabled`));
  }

  patchReported(identity: IdentityRef, patch: TwinPatch): Promise<boolean> {
    return this.#connector?.patchReported(identity, patch) ?? Promise.resolve(false);
  }

  hold(identity: IdentityRef): () => void {
    return this.#connector?.hold(identity) ?? (() => {});
  }

  setHandlers(handlers: UpstreamHandlers): void {
    this.#handlers = handlers;
    this.#connector?.setHandlers(handlers);
  }

  metricFamilies(): MetricFamily[] {
    return upstreamMetricFamilies(
      () => this.state(),
      () => this.#connector?.failures() ?? new Map(),
    );
  }
}
