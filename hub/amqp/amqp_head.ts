/**
 * The AMQP head: takes connections (TLS from its own listener, WebSocket from the HTTPS
 * listener's `AMQPWSB10` upgrades), one {@linkcode AmqpConnection} each, bounded by
 * `hub.max_connections`. rhea and the connection code are loaded on the first connection: a hub
 * no AMQP client talks to never loads them (nor Deno's CommonJS loader for them).
 */
import type { Duplex } from "node:stream";
import type { Config } from "../../core/config.ts";
import type { Logger } from "../../core/log.ts";
import type { ConnectionInfo } from "../broker.ts";
import { createFailureLimiter, type FailureLimiter } from "../failure_limiter.ts";
import type { HeadPort } from "../head_port.ts";
import type { HubSecurity } from "../security_port.ts";
import { type AmqpCounters, createAmqpCounters } from "./amqp_counters.ts";
import type { AmqpConnection, AmqpLimits } from "./amqp_connection.ts";

type ConnectionModule = typeof import("./amqp_connection.ts");

let loading: Promise<ConnectionModule> | undefined;
let loaded: ConnectionModule | undefined;

/** The connection code (and rhea), imported once, on first use. */
function loadConnectionModule(): Promise<ConnectionModule> {
  loading ??= import("./amqp_connection.ts").then((module) => loaded = module);
  return loading;
}

/** The running AMQP head. */
export interface AmqpHead {
  /** Takes a connection (a TLS socket, or a WebSocket as a stream). */
  handle(stream: Duplex, info: ConnectionInfo): void;
  readonly counters: AmqpCounters;
  /** Closes every connection. */
  close(): Promise<void>;
}

/** Options of {@linkcode createAmqpHead}. */
export interface AmqpHeadOptions {
  config: Config;
  port: HeadPort;
  security: HubSecurity;
  logger: Logger;
  /** The per-source failure budget, shared with the other heads when given. */
  limiter?: FailureLimiter;
}

/** The limits the head applies, from `[hub]`. */
export function amqpLimits(config: Config): AmqpLimits {
  const hub = config.hub;
  return {
    maxMessageBytes: hub.max_message_bytes,
    maxInflight: hub.max_inflight,
    connectTimeoutSeconds: hub.connect_timeout_seconds,
    // Room for one largest message plus framing; IoT Hub's clients send far smaller frames.
    maxFrameBytes: Math.max(64 * 1024, Math.min(hub.max_message_bytes + 64 * 1024, 4 << 20)),
    // edgeHub's idle timeout; the SDK's rhea answers the advertised value with heartbeats.
    idleTimeoutMs: 240_000,
  };
}

/** Creates the AMQP head. */
export function createAmqpHead(options: AmqpHeadOptions): AmqpHead {
  const { config, logger } = options;
  const counters = createAmqpCounters();
  const connections = new Set<AmqpConnection>();
  const context = {
    port: options.port,
    security: options.security,
    limiter: options.limiter ??
      createFailureLimiter({ limitPerMinute: config.hub.auth_failures_per_minute }),
    counters,
    logger,
    limits: amqpLimits(config),
    hostnames: [config.device.iothub_hostname, config.device.hostname],
  };
  // A removed identity is cut off at once, on every connection it holds.
  const unsubscribe = options.security.onIdentityRemoved((removal) => {
    for (const connection of connections) {
      connection.auth.revokeRemoved((identity) => removal.covers(identity));
    }
  });
  // Streams accepted while the connection code loads (the first connection only).
  const waiting = new Set<Duplex>();
  let closed = false;
  const open = (module: ConnectionModule, stream: Duplex, info: ConnectionInfo) => {
    waiting.delete(stream);
    if (closed || stream.destroyed) return stream.destroy();
    const connection = new module.AmqpConnection(context, stream, info, (ended) => {
      connections.delete(ended);
      counters.connections = connections.size;
    });
    connections.add(connection);
    counters.connections = connections.size;
  };
  return {
    counters,
    handle(stream, info) {
      stream.on("error", () => {});
      if (connections.size + waiting.size >= config.hub.max_connections) {
        logger.warn("amqp connection refused: hub.max_connections reached", {
          source: info.source,
        });
        stream.destroy();
        return;
      }
      if (loaded) return open(loaded, stream, info);
      waiting.add(stream);
      loadConnectionModule().then((module) => open(module, stream, info), (error) => {
        waiting.delete(stream);
        logger.error("amqp connection refused: cannot load the AMQP head", {
          error: error instanceof Error ? error.message : String(error),
        });
        stream.destroy();
      });
    },
    close() {
      closed = true;
      unsubscribe();
      for (const stream of waiting) stream.destroy();
      for (const connection of connections) connection.close("the hub is stopping");
      return Promise.resolve();
    },
  };
}
