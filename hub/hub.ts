/**
 * The hub's core: what a publish means (telemetry routed into durable queues, twin requests,
 * method replies), direct methods and C2D, and the wiring of the parts: ingest
 * (telemetry_ingest.ts), deliveries from queues to connected modules and devices
 * (module_deliveries.ts), twins (hub_twins.ts), the heads (head_sessions.ts). The broker
 * ({@linkcode createBroker}) calls in; listeners feed the broker.
 */
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import { type Broker, createBroker, type InboundPublish } from "./broker.ts";
import { type HeadCounters, type HubStats, hubStats, newHubCounters } from "./hub_stats.ts";
import type { ClientSession } from "./client_session.ts";
import {
  formatPropertyBag,
  identityKey,
  identityLabel,
  type IdentityRef,
  identityRef,
  InboundTopics,
  MessageTooLargeError,
  methodPayload,
  type TwinProperties,
} from "../iothub/mod.ts";
import type { HeadPort } from "./head_port.ts";
import { HeadSessions } from "./head_sessions.ts";
import { createMethodCalls, type MethodResult } from "./method_calls.ts";
import { invokeMethod, type MethodRequest } from "./method_invocation.ts";
import { compileRoutes, type RoutesConfig, type RouteTable } from "../routing/mod.ts";
import type { HubSecurity } from "./security_port.ts";
import type { MessageStore } from "../store/mod.ts";
import { resolveTtlSeconds } from "../store/mod.ts";
import type { TwinStore } from "./twin_store.ts";
import { HubTwins } from "./hub_twins.ts";
import { c2dEndpoint, ModuleDeliveries } from "./module_deliveries.ts";
import { TooLargeRefusals } from "./too_large_refusals.ts";
import { TelemetryIngest } from "./telemetry_ingest.ts";

/** `$edgeHub` desired properties, schema 1.0-1.3 (unknown keys are kept out). */
export const EdgeHubDesired = lazySchema(() =>
  z.object({
    schemaVersion: z.string({ error: 'expected a string such as "1.1"' }).regex(
      /^1\.[0-3](\.\d+)?$/,
      {
        error: "expected 1.0, 1.1, 1.2 or 1.3",
      },
    ),
    // Route strings and objects are checked by compileRoutes, which names `routes.<name>`.
    routes: z.record(z.string(), z.unknown()).default({}),
    storeAndForwardConfiguration: z.object({
      timeToLiveSecs: z.number().int().optional(),
      storeLimits: z.object({ maxSizeBytes: z.number().int().positive() }).optional(),
    }).optional(),
  })
);
/** `$edgeHub` desired properties. */
export type EdgeHubDesired = z.infer<typeof EdgeHubDesired>;

/** The hub as the rest of ledge uses it. */
export interface Hub {
  /**
   * Takes the deployment's `$edgeHub` desired properties (schemaVersion 1.0-1.3: routes,
   * storeAndForwardConfiguration) and the modules' desired twins. Compiles routes first; an
   * invalid route throws and keeps the previous table.
   */
  applyDesired(
    desired: { edgeHub: unknown; moduleTwins: Record<string, Record<string, unknown>> },
  ): void;
  /** Replaces the `$edgeAgent` module twin's reported properties (the agent calls this). */
  setEdgeAgentReported(reported: Record<string, unknown>): void;
  /** Calls a direct method on a connected module or device. */
  invokeMethod(
    target: IdentityRef,
    request: MethodRequest,
  ): Promise<MethodResult>;
  /** Queues a cloud-to-device message for a device (delivered when it subscribes). */
  sendC2D(
    deviceId: string,
    message: { body: Uint8Array; properties?: Record<string, string> },
  ): Promise<void>;
  /** Counters and queue depths. */
  stats(): HubStats;
  /** The compiled routes in force (an immutable value, replaced by each accepted deployment). */
  routeTable(): RouteTable;
  /** A twin as GET returns it. */
  getTwin(target: IdentityRef): {
    desired: TwinProperties;
    reported: TwinProperties;
  };
  /**
   * Applies a desired patch (returns the new desired version) and, once it is durable, pushes it
   * to the twin's subscriber. @throws {TwinPatchError}
   */
  patchDesired(target: IdentityRef, patch: TwinProperties): number;
  /** Resolves once every twin change made so far is on disk (see {@linkcode TwinStore.durable}). */
  twinsDurable(): Promise<void>;
  /** The key (`device` or `device/module`, lower-case) of every twin held here. */
  twinKeys(): string[];
  /** Whether `target` has a session on this hub now. */
  isConnected(target: IdentityRef): boolean;
  /**
   * Calls `listener` when a client's session starts (`true`) and ends (`false`), once each per
   * session (the upstream link holds the client's connection to the parent meanwhile).
   * @returns the unsubscribe function
   */
  onClientChange(
    listener: (identity: IdentityRef, connected: boolean) => void,
  ): () => void;
  /**
   * Calls `listener` after a client's reported-properties patch is stored (the upstream link
   * syncs it to the parent).
   * @returns the unsubscribe function
   */
  onReportedPatch(
    listener: (identity: IdentityRef, patch: TwinProperties) => void,
  ): () => void;
}

/** The hub plus what its listeners need. */
export interface HubCore extends Hub {
  readonly broker: Broker;
  /** What the AMQP and HTTPS heads use. */
  readonly heads: HeadPort;
  /**
   * Adds a head's counters to {@linkcode Hub.stats}: under `heads[name]`, and those it shares
   * with the MQTT broker (auth failures, ACL denials, protocol errors) summed into the totals.
   */
  addCounters(name: string, read: HeadCounters): void;
  close(): Promise<void>;
}

function count(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** Starts the hub core on a store and a twin store. */
export async function createHubCore(
  options: {
    config: Config;
    logger: Logger;
    security: HubSecurity;
    store: MessageStore;
    twins: TwinStore;
  },
): Promise<HubCore> {
  const { config, logger, store, twins } = options;
  const hub = config.hub;
  const deviceId = config.device.id;
  let table: RouteTable = compileRoutes({});
  let deploymentTtlSeconds: number | undefined;
  const methods = createMethodCalls();
  type Target = IdentityRef;
  const clientListeners = new Set<(identity: Target, connected: boolean) => void>();
  const reportedListeners = new Set<(identity: Target, patch: TwinProperties) => void>();
  function notify<A extends unknown[]>(listeners: Set<(...args: A) => void>, ...args: A): void {
    for (const listener of listeners) {
      try {
        listener(...args);
      } catch (error) {
        logger.error("a hub listener failed", { error });
      }
    }
  }
  const stats = newHubCounters();
  const telemetry = new TelemetryIngest({
    store,
    logger,
    counters: stats,
    tooLargeRefusals: new TooLargeRefusals(),
    maxMessageBytes: hub.max_message_bytes,
    table: () => table,
    ttlSeconds: (routeTtlSeconds) =>
      resolveTtlSeconds({
        routeTtlSeconds,
        deploymentTtlSeconds,
        configTtlSeconds: hub.store.time_to_live_secs,
      }),
  });
  const inboundTopics = new InboundTopics();
  const deliveries = new ModuleDeliveries({
    store,
    logger,
    maxInflight: hub.max_inflight,
    table: () => table,
    onDelivered: (endpoint) => count(stats.delivered, endpoint),
  });
  // The broker and the heads it pushes through come below; a push waits for a sync anyway.
  const twinPaths = new HubTwins({
    twins,
    logger,
    session: (key) => broker.sessions.get(key),
    pushToHeads: (key, patch, version) => heads.pushDesired(key, patch, version),
    onReported: (identity, patch) => notify(reportedListeners, identity, patch),
  });

  function publish(session: ClientSession, packet: InboundPublish): Promise<void> | void {
    const topic = inboundTopics.parse(packet.topic);
    switch (topic.kind) {
      case "telemetry":
        return telemetry.publish(session, packet, topic.bag);
      case "twinGet":
        return twinPaths.answerGet(session, topic.rid);
      case "twinPatchReported":
        // Its answer is the response topic, once durable; the publish itself returns now.
        twinPaths.patchReportedOverMqtt(session, topic.rid, packet.payload as Uint8Array)
          .catch((error) => logger.error("a twin answer could not be sent", { error }));
        return;
      case "methodResponse": {
        const settled = methods.settle(session.key, topic.rid, {
          status: topic.status,
          payload: methodPayload(packet.payload as Uint8Array),
        });
        if (!settled) {
          stats.unknownMethodReplies++;
          logger.debug("method reply for an unknown rid", {
            client: identityLabel(session.identity),
            rid: topic.rid,
          });
        }
        return;
      }
      case "unknown":
        throw new Error(`Cannot publish: ${packet.topic} is not an IoT Hub topic`);
    }
  }

  const heads = new HeadSessions({
    store,
    maxInflight: hub.max_inflight,
    methods,
    logger,
    ingest: (sender, message) => telemetry.ingest(sender, message),
    endpointsOf: (identity) => deliveries.endpointsOf(identity),
    twin: (key) => twinPaths.document(key),
    patchReported: (identity, patch) => twinPaths.patchReported(identity, patch),
    onDelivered: (endpoint) => count(stats.delivered, endpoint),
    onPresence: (identity, connected) => notify(clientListeners, identityRef(identity), connected),
  });

  const broker = await createBroker({
    security: options.security,
    logger,
    limits: {
      maxMessageBytes: hub.max_message_bytes,
      maxConnections: hub.max_connections,
      maxSubscriptions: hub.max_subscriptions,
      connectTimeoutSeconds: hub.connect_timeout_seconds,
      authFailuresPerMinute: hub.auth_failures_per_minute,
      hubHosts: [config.device.iothub_hostname, config.device.hostname],
    },
    handlers: {
      connected(session) {
        notify(clientListeners, identityRef(session.identity), true);
      },
      disconnected(session) {
        notify(clientListeners, identityRef(session.identity), false);
        deliveries.stop(session);
        if (broker.sessions.get(session.key) === undefined) methods.abandon(session.key);
      },
      publish,
      oversized(session, packet) {
        const error = new MessageTooLargeError(
          `Cannot accept message: a packet of ${packet.bytes} bytes exceeds hub.max_message_bytes (${hub.max_message_bytes})`,
        );
        const content = `${packet.topic}\n${packet.bytes}`;
        return !telemetry.refuseTooLarge(session.identity, content, new Uint8Array(0), error);
      },
      subscribed(session, filter) {
        if (filter.includes("/inputs/") || filter.includes("/messages/devicebound")) {
          deliveries.start(session);
        }
      },
    },
  });

  const extraCounters = new Map<string, HeadCounters>();

  const core: HubCore = {
    broker,
    heads,
    addCounters(name, read) {
      extraCounters.set(name, read);
    },
    applyDesired(desired) {
      const edgeHub = EdgeHubDesired.parse(desired.edgeHub);
      const next = compileRoutes(edgeHub.routes as RoutesConfig, {
        schemaVersion: edgeHub.schemaVersion,
      });
      table = next;
      const saf = edgeHub.storeAndForwardConfiguration;
      deploymentTtlSeconds = saf?.timeToLiveSecs;
      if (saf?.storeLimits?.maxSizeBytes !== undefined) {
        store.setMaxSizeBytes(saf.storeLimits.maxSizeBytes);
      }
      twinPaths.replaceDesired(
        { deviceId, moduleId: "$edgeHub" },
        desired.edgeHub as TwinProperties,
      );
      for (const [moduleId, properties] of Object.entries(desired.moduleTwins)) {
        twinPaths.replaceDesired({ deviceId, moduleId }, properties);
      }
      deliveries.refresh();
      heads.refreshDeliveries();
      logger.info("routes applied", { routes: table.routes.map((route) => route.name) });
    },
    setEdgeAgentReported(reported) {
      twinPaths.replaceReported({ deviceId, moduleId: "$edgeAgent" }, reported);
    },
    invokeMethod: (target, request) =>
      invokeMethod({ methods, session: (key) => broker.sessions.get(key), heads }, target, request),
    async sendC2D(target, message) {
      const systemProperties: Record<string, string> = {
        messageId: crypto.randomUUID(),
        enqueuedTime: new Date().toISOString(),
        to: `/devices/${target}/messages/devicebound`,
      };
      await store.enqueue(
        { body: message.body, appProperties: message.properties ?? {}, systemProperties },
        [{
          endpoint: c2dEndpoint(target),
          priority: 0,
          ttlSeconds: deploymentTtlSeconds ?? hub.store.time_to_live_secs,
        }],
      );
    },
    getTwin: (target) => twinPaths.document(identityKey(target)),
    patchDesired: (target, patch) => twinPaths.patchDesired(target, patch),
    twinsDurable: () => twins.durable(),
    twinKeys: () => twins.keys(),
    isConnected: (target) => {
      const key = identityKey(target);
      return broker.sessions.has(key) || heads.has(key);
    },
    onClientChange(listener) {
      clientListeners.add(listener);
      return () => clientListeners.delete(listener);
    },
    onReportedPatch(listener) {
      reportedListeners.add(listener);
      return () => reportedListeners.delete(listener);
    },
    routeTable: () => table,
    stats() {
      return hubStats({
        counters: stats,
        broker: broker.counters,
        heads: extraCounters,
        clients: [
          ...[...broker.sessions.values()].map((session) => identityLabel(session.identity)),
          ...heads.clients(),
        ],
        methodCallsPending: methods.pending(),
        store,
        routes: table.routes.map((route) => route.name),
      });
    },
    async close() {
      methods.close();
      heads.close();
      deliveries.close();
      await broker.close();
    },
  };
  return core;
}

export { formatPropertyBag };
