/**
 * The MQTT broker: aedes handles the protocol (CONNECT, keepalive, SUBSCRIBE bookkeeping,
 * session takeover) and the hub decides everything else through its hooks:
 *
 * - `authenticate`: clientId/username per IoT Hub rules, then SAS or X.509 via the security
 *   manager; failures get CONNACK 5 and count against the source's failure budget.
 * - `authorizePublish`: ACL, then the publish is handled (telemetry routed and made durable,
 *   twin and method requests answered). aedes writes the PUBACK only after this hook calls back,
 *   so a QoS 1 PUBACK means the message is in every queue its routes chose. A refused publish
 *   closes the connection (IoT Hub does the same; the client retries unacknowledged messages).
 * - `authorizeSubscribe`: filters checked as filters; denied ones get SUBACK 0x80.
 * - `authorizeForward`: nothing is ever forwarded client-to-client; every delivery is written by
 *   the hub itself ({@linkcode ClientSession}), which also claims its PUBACKs.
 */
import { Aedes, type Client, type PublishPacket, type Subscription } from "aedes";
import type { Logger } from "../core/log.ts";
import { identityKey, identityLabel } from "../iothub/mod.ts";
import { publishDenial, subscribeDenial } from "./acl.ts";
import { type ClientSession, createClientSession } from "./client_session.ts";
import { type ClaimedIdentity, parseConnectCredentials } from "./connect_credentials.ts";
import type { GateTicket } from "./connection_gate.ts";
import { createFailureLimiter } from "./failure_limiter.ts";
import { createPacketScanner } from "./packet_guard.ts";
import type { HubIdentity, HubSecurity } from "./security_port.ts";

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
  publish(session: ClientSession, packet: PublishPacket): Promise<void> | void;
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
  /** Attaches a new connection (a TCP, TLS or WebSocket stream). */
  handle(connection: import("node:stream").Duplex, info: ConnectionInfo): void;
  /** Connected sessions by identity key. */
  readonly sessions: ReadonlyMap<string, ClientSession>;
  readonly counters: BrokerCounters;
  close(): Promise<void>;
}

// Room for the topic, property bag and MQTT framing on top of the message itself.
const FRAMING_ALLOWANCE = 64 * 1024;

/**
 * aedes reads with `read()` once per 'readable' and expects the whole buffer. Under Deno a stream
 * holding several chunks can hand back only the first, and 'readable' does not fire again until
 * more data arrives — so a packet split over WebSocket messages stalls. Reading until `null`
 * returns everything and re-arms 'readable'. Every chunk passes `screen` before aedes sees it:
 * a violation closes the connection and nothing of that read is parsed.
 */
function drainOnRead(
  connection: import("node:stream").Duplex,
  screen: (chunk: Uint8Array) => boolean,
): void {
  const readOne = connection.read.bind(connection);
  connection.read = (size?: number) => {
    if (size !== undefined && size !== null) return readOne(size);
    const chunks: Buffer[] = [];
    let chunk: Buffer | null;
    while ((chunk = readOne()) !== null) {
      if (!screen(chunk)) return null;
      chunks.push(chunk);
    }
    if (chunks.length === 0) return null;
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  };
}

/** Runs `then` once what was written to `connection` so far has been flushed (or failed). */
function afterFlush(connection: import("node:stream").Duplex, then: () => void): void {
  if (connection.destroyed || !connection.writable) return then();
  // Writes complete in order: the callback of an empty write means everything before it left.
  connection.write(new Uint8Array(0), () => then());
}

function authError(message: string, returnCode: number): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

/** Starts the broker. */
export async function createBroker(
  options: {
    security: HubSecurity;
    limits: BrokerLimits;
    logger: Logger;
    handlers: BrokerHandlers;
  },
): Promise<Broker> {
  const { security, limits, logger, handlers } = options;
  const limiter = createFailureLimiter({ limitPerMinute: limits.authFailuresPerMinute });
  const infos = new WeakMap<object, ConnectionInfo>();
  const sessionOf = new WeakMap<Client, ClientSession>();
  const sessions = new Map<string, ClientSession>();
  const pendingPublishes = new WeakMap<ClientSession, Set<Promise<void>>>();
  const counters: BrokerCounters = {
    authFailures: 0,
    authRateLimited: 0,
    aclDenials: 0,
    protocolErrors: 0,
  };

  function verify(client: Client, claimed: ClaimedIdentity, password: Buffer | undefined) {
    const info = infos.get(client.conn);
    const token = password === undefined ? "" : password.toString("utf8");
    if (token !== "") return security.verifySasToken(token, claimed);
    if (info && info.peerChain.length > 0) {
      return security.verifyClientCertificate(info.peerChain, claimed);
    }
    return { ok: false as const, reason: "no SAS token and no client certificate" };
  }

  function authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: (Error & { returnCode: number }) | null, success: boolean | null) => void,
  ): void {
    const info = infos.get(client.conn);
    const source = info?.source ?? "unknown";
    if (limiter.blocked(source)) {
      counters.authRateLimited++;
      logger.warn("connect refused: too many failures from this source", { source });
      return done(authError("too many authentication failures", 5), null);
    }
    if (sessions.size >= limits.maxConnections) {
      logger.warn("connect refused: hub.max_connections reached", { source });
      return done(authError("server unavailable", 3), null);
    }
    let identity: HubIdentity;
    try {
      const claimed = parseConnectCredentials(client.id, username, {
        hubHosts: limits.hubHosts,
      });
      const verdict = verify(client, claimed, password);
      if (!verdict.ok) throw new Error(verdict.reason);
      identity = {
        deviceId: verdict.identity.deviceId,
        moduleId: verdict.identity.moduleId,
        generationId: verdict.identity.generationId,
      };
      if (identityKey(identity) !== identityKey(claimed)) {
        throw new Error(
          `credentials are for ${identityLabel(identity)}, not ${identityLabel(claimed)}`,
        );
      }
      // deno-lint-ignore no-explicit-any
      const will = (client as any)._will as { topic: string } | null | undefined;
      const willDenial = will ? publishDenial(identity, will.topic) : undefined;
      if (willDenial) throw new Error(`last will refused: ${willDenial}`);
    } catch (error) {
      counters.authFailures++;
      limiter.fail(source);
      logger.warn("connect refused", {
        clientId: client.id,
        source,
        reason: (error as Error).message,
      });
      return done(authError("not authorized", 5), null);
    }
    sessionOf.set(client, createClientSession(identity, client.conn as never));
    done(null, true);
  }

  function authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    const session = client ? sessionOf.get(client) : undefined;
    if (!session) return done(new Error("Cannot publish: not connected"));
    const denial = packet.qos === 2
      ? "QoS 2 is not supported"
      : publishDenial(session.identity, packet.topic);
    if (denial) {
      counters.aclDenials++;
      logger.warn("publish refused", { client: identityLabel(session.identity), reason: denial });
      return done(new Error(`Cannot publish: ${denial}`));
    }
    packet.retain = false;
    let result: Promise<void> | void;
    try {
      result = handlers.publish(session, packet);
    } catch (error) {
      return done(error as Error);
    }
    if (!result) return done(null);
    // aedes handles the packets of one read concurrently, and a refusal closes the connection:
    // the publishes before it settle first, so whatever was made durable still gets its PUBACK.
    let pending = pendingPublishes.get(session);
    if (!pending) pendingPublishes.set(session, pending = new Set());
    const earlier = [...pending];
    const settled = result.then(
      () => done(null),
      (error) =>
        Promise.allSettled(earlier).then(() => afterFlush(client!.conn, () => done(error))),
    );
    pending.add(settled);
    settled.finally(() => pending.delete(settled));
  }

  function authorizeSubscribe(
    client: Client,
    subscription: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const session = sessionOf.get(client);
    if (!session) return done(new Error("Cannot subscribe: not connected"));
    const filter = subscription.topic;
    let denial = subscribeDenial(session.identity, filter);
    if (
      !denial && !session.subscriptions.has(filter) &&
      session.subscriptions.size >= limits.maxSubscriptions
    ) {
      denial = `more than hub.max_subscriptions (${limits.maxSubscriptions}) filters`;
    }
    if (denial) {
      counters.aclDenials++;
      logger.warn("subscribe refused", { client: identityLabel(session.identity), reason: denial });
      return done(null, null);
    }
    session.subscriptions.add(filter);
    // After the SUBACK is on its way: start deliveries for this filter.
    setTimeout(() => {
      if (!session.ended) handlers.subscribed(session, filter);
    }, 0);
    done(null, { ...subscription, qos: Math.min(subscription.qos, 1) as 0 | 1 });
  }

  const aedes = await Aedes.createBroker({
    connectTimeout: limits.connectTimeoutSeconds * 1000,
    heartbeatInterval: 60_000,
    maxClientsIdLength: 300,
    authenticate,
    authorizePublish,
    authorizeSubscribe,
    authorizeForward: () => null,
  });

  // PUBACKs for the hub's own deliveries settle in the session; the rest go to aedes as usual.
  // deno-lint-ignore no-explicit-any
  const persistence = (aedes as any).persistence;
  const clearMessageId = persistence.outgoingClearMessageId.bind(persistence);
  persistence.outgoingClearMessageId = (client: Client, packet: { messageId?: number }) => {
    const session = sessionOf.get(client);
    if (session && packet.messageId !== undefined && session.settle(packet.messageId)) {
      return Promise.resolve(undefined);
    }
    return clearMessageId(client, packet);
  };

  // A client's publish has been handled by authorizePublish (routed, stored, answered) when
  // aedes goes on to publish it, and aedes has nothing left to do with it: nothing is forwarded
  // client to client, retain is cleared, there are no offline queues to fill. Its pipeline (a
  // topic match against every subscription, twice for QoS 1) is skipped for those; the broker's
  // own publishes ($SYS) still go through it.
  type InternalPublish = (
    packet: PublishPacket,
    client: Client | null | ((error?: Error) => void),
    done?: (error?: Error) => void,
  ) => void;
  // deno-lint-ignore no-explicit-any
  const internals = aedes as any as { publish: InternalPublish };
  const publishThroughAedes = internals.publish.bind(aedes);
  internals.publish = (packet, client, done) => {
    if (client === null || typeof client === "function") {
      return publishThroughAedes(packet, client, done);
    }
    done?.();
  };

  aedes.on("clientReady", (client) => {
    const session = sessionOf.get(client);
    if (!session) return;
    infos.get(client.conn)?.ticket?.established();
    const previous = sessions.get(session.key);
    sessions.set(session.key, session);
    if (previous && previous !== session) previous.end();
    logger.debug("client connected", { client: identityLabel(session.identity) });
    handlers.connected(session);
  });
  aedes.on("clientDisconnect", (client) => {
    const session = sessionOf.get(client);
    if (!session) return;
    if (sessions.get(session.key) === session) sessions.delete(session.key);
    session.end();
    handlers.disconnected(session);
    logger.debug("client disconnected", { client: identityLabel(session.identity) });
  });
  aedes.on("unsubscribe", (filters, client) => {
    const session = sessionOf.get(client);
    for (const filter of filters) session?.subscriptions.delete(filter);
  });
  aedes.on("clientError", (client, error) => {
    counters.protocolErrors++;
    logger.debug("client error", { clientId: client.id, error: error.message });
  });
  aedes.on("connectionError", (_client, error) => {
    counters.protocolErrors++;
    logger.debug("connection error", { error: error.message });
  });

  return {
    sessions,
    counters,
    handle(connection, info) {
      infos.set(connection, info);
      const scanner = createPacketScanner({
        maxPacketBytes: limits.maxMessageBytes + FRAMING_ALLOWANCE,
      });
      drainOnRead(connection, (chunk) => {
        const violation = scanner.push(chunk);
        if (!violation) return true;
        counters.protocolErrors++;
        logger.warn("connection closed: bad packet", { source: info.source, violation });
        connection.destroy();
        return false;
      });
      const client = aedes.handle(connection);
      client.on("error", () => {});
    },
    close() {
      for (const session of sessions.values()) session.end();
      return new Promise((resolve) => aedes.close(() => resolve()));
    },
  };
}
