/**
 * The hub: a local IoT Hub-compatible broker. Modules written against the Azure IoT device SDK
 * (`ModuleClient.fromEnvironment`) and leaf devices (`GatewayHostName=...`) connect over MQTT/TLS
 * or MQTT over WebSocket, authenticate with SAS tokens or X.509 certificates from the security
 * manager, and are confined to their own topics. Telemetry and module outputs run through the
 * deployment's routes into durable per-endpoint queues (a QoS 1 PUBACK means durable), and are
 * delivered at least once to module inputs. Twins, direct methods and C2D work as in IoT Hub.
 *
 * A message refused because an endpoint queue is full gets no PUBACK: the connection is closed
 * and the client's SDK retransmits it after reconnecting, so nothing is dropped silently.
 *
 * @example
 * ```ts
 * const hub = createHubComponent(context, { security: securityComponent.manager });
 * await hub.start(signal);
 * hub.hub.applyDesired({ edgeHub: { schemaVersion: "1.1", routes: { r: "FROM /messages/* INTO $upstream" } }, moduleTwins: {} });
 * ```
 *
 * @module
 */
import type { Hono } from "hono";
import type { Component, RuntimeContext } from "../core/component.ts";
import { type AmqpHead, type AmqpListener, createAmqpHead, startAmqpListener } from "./amqp/mod.ts";
import { createFailureLimiter, type FailureLimiter } from "./failure_limiter.ts";
import type { Logger } from "../core/log.ts";
import { createDeviceApi, type DeviceApi } from "./http_device/mod.ts";
import { createHubCore, type Hub, type HubCore } from "./hub.ts";
import { type Listeners, startListeners } from "./listeners.ts";
import { createMethodsApi } from "./methods_api.ts";
import { createHubMgmtApi, HUB_API_DOCS } from "./mgmt_api.ts";

export type { HubApi } from "./mgmt_api.ts";
import type { HubSecurity } from "./security_port.ts";
import {
  type MessageStore,
  messageStorePath,
  openMessageStore,
  storeOptionsFromConfig,
} from "../store/mod.ts";
import { openTwinStore, type TwinStore } from "./twin_store.ts";

export type { EdgeHubDesired, Hub } from "./hub.ts";
export type { MethodRequest } from "./method_invocation.ts";
export type { HubStats } from "./hub_stats.ts";
export type { MethodFailure, MethodResult } from "./method_calls.ts";
export type { HubSecurity } from "./security_port.ts";
export { WEBSOCKET_PATH } from "./websocket_upgrade.ts";

/** The hub component. */
export interface HubComponent extends Component {
  /** The running hub; throws before `start`. */
  readonly hub: Hub;
  /** Bound ports by listener ("mqtts", "https", "amqps", "plain"), once started. */
  readonly ports: Readonly<Record<string, number>>;
  /** The same bound ports, as every component reports them (port 0 in the config: the one given). */
  listeners(): Readonly<Record<string, number>>;
  /** The durable store of every endpoint queue (the upstream drains `$upstream`); throws before `start`. */
  readonly store: MessageStore;
}

/** Options of {@linkcode createHubComponent}. */
export interface HubComponentOptions {
  security: HubSecurity;
  /** How often expired messages are purged (and counted), in ms; default 60000. For tests. */
  purgeIntervalMs?: number;
  /**
   * More routes on the HTTPS listener, tried before the methods API: undefined when the request
   * is not theirs (self-update artifacts for child devices).
   */
  httpsRoutes?: (request: Request) => Promise<Response | undefined>;
  /**
   * Opens the message store in the format the previous ledge reads (a self-update may still roll
   * back to it) until `store.useCurrentFormat()`.
   */
  compatibleStoreFormat?: boolean;
}

/** The hub's message store, in the previous version's format when the daemon asks for it. */
function openHubStore(
  context: RuntimeContext,
  options: HubComponentOptions,
  logger: Logger,
): MessageStore {
  return openMessageStore(messageStorePath(context.stateDir), {
    ...storeOptionsFromConfig(context.config, logger),
    compatibleFormat: options.compatibleStoreFormat ?? false,
    ...(options.purgeIntervalMs === undefined ? {} : { purgeIntervalMs: options.purgeIntervalMs }),
  });
}

/** The HTTPS device API and the AMQP head on `core`'s heads port, their counters in its stats. */
function createHeads(
  core: HubCore,
  context: RuntimeContext,
  options: HubComponentOptions,
  limiter: FailureLimiter,
  logger: Logger,
): { deviceApi: DeviceApi; head: AmqpHead } {
  const deviceApi = createDeviceApi({
    port: core.heads,
    security: options.security,
    limiter,
    logger: logger.child("https"),
    maxMessageBytes: context.config.hub.max_message_bytes,
  });
  core.addCounters("https", () => ({ ...deviceApi.counters }));
  const head = createAmqpHead({
    config: context.config,
    port: core.heads,
    security: options.security,
    logger: logger.child("amqp"),
    limiter,
  });
  core.addCounters("amqp", () => ({ ...head.counters }));
  return { deviceApi, head };
}

/** Creates the hub component (listeners, broker, store and twins start in `start`). */
export function createHubComponent(
  context: RuntimeContext,
  options: HubComponentOptions,
): HubComponent {
  const logger = context.logger.child("hub");
  let core: HubCore | undefined;
  let listeners: Listeners | undefined;
  let amqp: AmqpHead | undefined;
  let amqpListener: AmqpListener | undefined;
  let devices: DeviceApi | undefined;
  // One failure budget per source address for the AMQP head and the device API.
  const limiter = createFailureLimiter({
    limitPerMinute: context.config.hub.auth_failures_per_minute,
  });

  function boundPorts(): Record<string, number> {
    const ports = { ...listeners?.ports };
    if (amqpListener) ports.amqps = amqpListener.port;
    return ports;
  }
  let twins: TwinStore | undefined;
  let store: MessageStore | undefined;

  function hub(): Hub {
    if (!core) throw new Error("Cannot use the hub: it is not started");
    return core;
  }

  const api: Hono = createHubMgmtApi(hub, { security: options.security });

  return {
    name: "hub",
    api,
    apiDocs: HUB_API_DOCS,
    get hub() {
      return hub();
    },
    get ports() {
      return boundPorts();
    },
    listeners: boundPorts,
    get store() {
      if (!store) throw new Error("Cannot use the hub's store: the hub is not started");
      return store;
    },
    async start(signal) {
      const dir = `${context.stateDir}/hub`;
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      store = openHubStore(context, options, logger);
      twins = openTwinStore(`${dir}/twins.db`);
      try {
        core = await createHubCore({
          config: context.config,
          logger,
          security: options.security,
          store,
          twins,
        });
        signal.throwIfAborted();
        const methodsApi = createMethodsApi(core, options.security);
        const { deviceApi, head } = createHeads(core, context, options, limiter, logger);
        devices = deviceApi;
        amqp = head;
        listeners = await startListeners({
          config: context.config,
          broker: core.broker,
          security: options.security,
          logger,
          // Self-update artifacts first (they answer only their own paths), then the device API.
          httpHandler: async (request, connection) =>
            (await options.httpsRoutes?.(request)) ??
              (new URL(request.url).pathname.startsWith("/devices/")
                ? deviceApi.app.fetch(request, connection)
                : methodsApi.fetch(request)),
          amqp: head,
        });
        if (context.config.hub.amqp.enabled) {
          amqpListener = await startAmqpListener({
            config: context.config,
            head,
            security: options.security,
            logger,
            gate: listeners.gate,
          });
        }
      } catch (error) {
        await this.stop();
        throw error;
      }
    },
    async stop() {
      devices?.close();
      devices = undefined;
      await amqpListener?.close();
      amqpListener = undefined;
      await amqp?.close();
      amqp = undefined;
      await listeners?.close();
      listeners = undefined;
      await core?.close();
      core = undefined;
      await store?.close();
      store = undefined;
      await twins?.close();
      twins = undefined;
    },
  };
}
