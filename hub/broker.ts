/**
 * The MQTT broker: ledge's own IoT Hub session layer (no client-to-client forwarding, no retained
 * messages, a fixed topic space). The protocol of one connection is {@linkcode MqttConnection};
 * here the hub decides what it means:
 *
 * - CONNECT: clientId/username per IoT Hub rules, then SAS or X.509 via the security manager
 *   ({@linkcode authenticateConnect}); failures get CONNACK 5 and count against the source's
 *   failure budget. A second connection of one identity takes the session over (the first is
 *   closed). A persistent session (clean = 0) keeps its subscriptions until the next clean one.
 * - PUBLISH: ACL, then the hub's handler (telemetry routed and made durable, twin and method
 *   requests answered); the PUBACK is written once the handler resolved, so a QoS 1 PUBACK
 *   means the message is in every queue its routes chose. A refused publish closes the
 *   connection (IoT Hub does the same; the client retries unacknowledged messages).
 * - SUBSCRIBE: filters checked as filters; denied ones get SUBACK 0x80.
 * - A removed identity's connections are closed at once.
 */
import type { Duplex } from "node:stream";
import type { Logger } from "../core/log.ts";
import { identityLabel } from "../iothub/mod.ts";
import { publishDenial, subscribeDenial } from "./acl.ts";
import { type ClientSession, createClientSession } from "./client_session.ts";
import { authenticateConnect } from "./connect_auth.ts";
import type { GateTicket } from "./connection_gate.ts";
import { createFailureLimiter } from "./failure_limiter.ts";
import {
  type ConnectionOwner,
  type ConnectOutcome,
  MqttConnection,
} from "./mqtt/mqtt_connection.ts";
import type { ConnectPacket, InboundPublish, OversizedPublish } from "./mqtt/mqtt_packets.ts";
import { ConnTransport, StreamTransport } from "./mqtt/mqtt_transport.ts";
import type { HubSecurity } from "./security_port.ts";

export type { InboundPublish, OversizedPublish } from "./mqtt/mqtt_packets.ts";

/** Where a connection came from, recorded by the listener. */
export interface ConnectionInfo {
  /** Remote address (the rate-limit key). */
  source: string;
  /** DER chain of the TLS client certificate, leaf first; empty without one. */
  peerChain: readonly Uint8Array[];
  /** Listener name, for logs: "mqtts", "wss", "plain". */
  listener: string;
  /** The connection's slot under hub.max_connections; told when CONNECT is accepted. */
  ticket?: GateTicket | undefined;
}

/** What the broker hands to the hub. */
export interface BrokerHandlers {
  /** A client completed CONNECT. */
  connected(session: ClientSession): void;
  /** A client's connection ended. */
  disconnected(session: ClientSession): void;
  /** A publish passed the ACL; resolve to acknowledge it, reject to close the connection. */
  publish(session: ClientSession, packet: InboundPublish): Promise<void> | void;
  /** A QoS 1 publish above the size limit: true to acknowledge and drop it, false to refuse. */
  oversized(session: ClientSession, packet: OversizedPublish): boolean;
  /** A subscription was granted. */
  subscribed(session: ClientSession, filter: string): void;
}

/** Broker limits, from `[hub]`. */
export interface BrokerLimits {
  maxMessageBytes: number;
  maxConnections: number;
  maxSubscriptions: number;
  connectTimeoutSeconds: number;
  authFailuresPerMinute: number;
  /** Names the host part of a CONNECT username may have (the IoT Hub's, the gateway's). */
  hubHosts: readonly string[];
}

/** Counters the broker keeps. */
export interface BrokerCounters {
  authFailures: number;
  authRateLimited: number;
  aclDenials: number;
  protocolErrors: number;
}

/** The running broker. */
export interface Broker {
  /** Attaches a new connection on a node stream (TLS socket, WebSocket stream). */
  handle(connection: Duplex, info: ConnectionInfo): void;
  /** Attaches a new connection on a Deno native socket. */
  handleConn(conn: Deno.Conn, info: ConnectionInfo): void;
  /** Connected sessions by identity key. */
  readonly sessions: ReadonlyMap<string, ClientSession>;
  readonly counters: BrokerCounters;
  close(): Promise<void>;
}

// Room for the topic, property bag and MQTT framing on top of the message itself.
const FRAMING_ALLOWANCE = 64 * 1024;

/** Options of {@linkcode createBroker}. */
export interface BrokerOptions {
  security: HubSecurity;
  limits: BrokerLimits;
  logger: Logger;
  handlers: BrokerHandlers;
}

/** The broker's state: sessions, connections, persistent subscriptions, counters. */
class MqttBroker implements Broker, ConnectionOwner {
  readonly sessions = new Map<string, ClientSession>();
  readonly counters: BrokerCounters = {
    authFailures: 0,
    authRateLimited: 0,
    aclDenials: 0,
    protocolErrors: 0,
  };
  readonly #connections = new Set<MqttConnection>();
  readonly #connectionOf = new WeakMap<ClientSession, MqttConnection>();
  /** Subscriptions of persistent (clean = 0) sessions, by identity key. */
  readonly #persistent = new Map<string, Set<string>>();
  readonly #limiter;
  readonly #unsubscribeRemovals: () => void;
  readonly #logger: Logger;

  constructor(private readonly options: BrokerOptions) {
    this.#logger = options.logger;
    this.#limiter = createFailureLimiter({ limitPerMinute: options.limits.authFailuresPerMinute });
    this.#unsubscribeRemovals = options.security.onIdentityRemoved((removal) => {
      for (const session of this.sessions.values()) {
        if (removal.covers(session.identity)) {
          this.#persistent.delete(session.key);
          this.#connectionOf.get(session)?.close();
        }
      }
    });
  }

  handle(connection: Duplex, info: ConnectionInfo): void {
    this.#attach(new StreamTransport(connection), info);
  }

  handleConn(conn: Deno.Conn, info: ConnectionInfo): void {
    this.#attach(new ConnTransport(conn), info);
  }

  #attach(transport: StreamTransport | ConnTransport, info: ConnectionInfo): void {
    const maxPacketBytes = this.options.limits.maxMessageBytes + FRAMING_ALLOWANCE;
    const connection = new MqttConnection(transport, info, this, maxPacketBytes);
    this.#connections.add(connection);
    connection.start();
  }

  connect(connection: MqttConnection, packet: ConnectPacket): ConnectOutcome {
    const { limits, logger, security } = this.options;
    const source = connection.info.source;
    if (packet.protocolLevel !== 4 && packet.protocolLevel !== 3) {
      return { ok: false, code: 1 };
    }
    if (this.#limiter.blocked(source, packet.clientId)) {
      this.counters.authRateLimited++;
      logger.warn("connect refused: too many failures from this source", { source });
      return { ok: false, code: 5 };
    }
    if (this.sessions.size >= limits.maxConnections) {
      logger.warn("connect refused: hub.max_connections reached", { source });
      return { ok: false, code: 3 };
    }
    const verdict = authenticateConnect(packet, {
      security,
      peerChain: connection.info.peerChain,
      hubHosts: limits.hubHosts,
    });
    if (!verdict.ok) {
      this.counters.authFailures++;
      this.#limiter.fail(source, packet.clientId);
      logger.warn("connect refused", { clientId: packet.clientId, source, reason: verdict.reason });
      return { ok: false, code: 5 };
    }
    const session = createClientSession(verdict.identity, connection.writer);
    this.#connectionOf.set(session, connection);
    // Takeover: the new session is the identity's before the old connection closes, so the
    // identity never looks offline in between (pending method calls stay).
    const previous = this.sessions.get(session.key);
    this.sessions.set(session.key, session);
    if (previous) this.#connectionOf.get(previous)?.close();
    const kept = packet.clean ? undefined : this.#persistent.get(session.key);
    if (packet.clean) this.#persistent.delete(session.key);
    else if (!kept) this.#persistent.set(session.key, session.subscriptions);
    return {
      ok: true,
      session,
      sessionPresent: kept !== undefined,
      afterConnack: () => this.#opened(session, kept),
    };
  }

  #opened(session: ClientSession, kept: Set<string> | undefined): void {
    this.#logger.debug("client connected", { client: identityLabel(session.identity) });
    this.options.handlers.connected(session);
    if (!kept) return;
    // A persistent session's subscriptions are the session's again, deliveries included.
    for (const filter of kept) session.subscriptions.add(filter);
    this.#persistent.set(session.key, session.subscriptions);
    for (const filter of kept) this.options.handlers.subscribed(session, filter);
  }

  publish(session: ClientSession, packet: InboundPublish): Promise<void> | void {
    if (packet.topic === session.allowedTopic) {
      return this.options.handlers.publish(session, packet);
    }
    const denial = publishDenial(session.identity, packet.topic);
    if (!denial) session.allowedTopic = packet.topic;
    if (denial) {
      this.counters.aclDenials++;
      this.#logger.warn("publish refused", {
        client: identityLabel(session.identity),
        reason: denial,
      });
      throw new Error(`Cannot publish: ${denial}`);
    }
    return this.options.handlers.publish(session, packet);
  }

  oversized(session: ClientSession, packet: OversizedPublish): boolean {
    if (publishDenial(session.identity, packet.topic)) return false;
    return this.options.handlers.oversized(session, packet);
  }

  subscribe(session: ClientSession, filters: { topic: string; qos: number }[]) {
    const { maxSubscriptions } = this.options.limits;
    const granted: string[] = [];
    const codes = filters.map(({ topic, qos }) => {
      let denial = subscribeDenial(session.identity, topic);
      if (
        !denial && !session.subscriptions.has(topic) &&
        session.subscriptions.size >= maxSubscriptions
      ) {
        denial = `more than hub.max_subscriptions (${maxSubscriptions}) filters`;
      }
      if (denial) {
        this.counters.aclDenials++;
        this.#logger.warn("subscribe refused", {
          client: identityLabel(session.identity),
          reason: denial,
        });
        return 0x80;
      }
      session.subscriptions.add(topic);
      granted.push(topic);
      return Math.min(qos, 1);
    });
    return {
      codes,
      granted: () => {
        for (const filter of granted) {
          if (!session.ended) this.options.handlers.subscribed(session, filter);
        }
      },
    };
  }

  unsubscribe(session: ClientSession, topics: string[]): void {
    for (const topic of topics) session.subscriptions.delete(topic);
  }

  violation(connection: MqttConnection, reason: string): void {
    this.counters.protocolErrors++;
    this.#logger.warn("connection closed: bad packet", {
      source: connection.info.source,
      violation: reason,
    });
  }

  closed(connection: MqttConnection): void {
    this.#connections.delete(connection);
    const session = connection.session;
    if (!session) return;
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
    session.end();
    this.options.handlers.disconnected(session);
    this.#logger.debug("client disconnected", { client: identityLabel(session.identity) });
  }

  close(): Promise<void> {
    this.#unsubscribeRemovals();
    for (const connection of [...this.#connections]) connection.close();
    return Promise.resolve();
  }
}

/** Starts the broker. */
export function createBroker(options: BrokerOptions): Promise<Broker> {
  return Promise.resolve(new MqttBroker(options));
}
