/**
 * The hub's sockets: MQTT over TLS, HTTPS (MQTT over WebSocket at `/$iothub/websocket` plus the
 * methods API) and, when enabled, plain MQTT on loopback only. Both TLS servers take the
 * security manager's server certificate and swap it in place when it renews
 * (`setSecureContext`): connected clients stay connected, new ones see the new certificate.
 */
import https from "node:https";
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { Broker, ConnectionInfo } from "./broker.ts";
import { ConnectionGate, type GateTicket } from "./connection_gate.ts";
import { nodeHandler, type RequestConnection } from "./node_fetch.ts";
import type { HubSecurity } from "./security_port.ts";
import { WEBSOCKET_PROTOCOLS, WebSocketUpgrades } from "./websocket_upgrade.ts";

/** Where connections of another protocol go (the AMQP head). */
export interface ConnectionHandler {
  handle(connection: Duplex, info: ConnectionInfo): void;
}

/** Running listeners and where they listen. */
export interface Listeners {
  /** Bound ports by listener name ("mqtts", "https", "plain"). */
  readonly ports: Readonly<Record<string, number>>;
  /** The bound on open connections, for the other listeners of the hub (AMQP/TLS). */
  readonly gate: ConnectionGate;
  close(): Promise<void>;
}

/**
 * The client's certificate, as a one-element chain. Only the leaf: under Deno 2.9 the issuer
 * links of `getPeerCertificate(true)` are not the chain the client sent (measured: the client's
 * leaf, then this server's own certificate, then the edge CA), and the security manager needs
 * only the leaf, which it checks against the CAs it knows or a registered thumbprint.
 */
export function peerChain(socket: tls.TLSSocket): Uint8Array[] {
  const leaf = socket.getPeerCertificate() as tls.PeerCertificate | undefined;
  return leaf?.raw ? [new Uint8Array(leaf.raw)] : [];
}

/** The TLS options of the hub's server certificate. */
export function tlsOptions(security: HubSecurity): tls.SecureContextOptions {
  const { certPem, keyPem, chainPem } = security.serverTls();
  // chainPem is the leaf followed by its issuers: serve it whole so clients that trust only the
  // root can verify.
  return { cert: chainPem || certPem, key: keyPem };
}

/**
 * Admits each socket a server accepts through `gate` (before TLS); returns how to find the ticket
 * of a socket later (by its remote address and port, which the TLS socket wrapping it shares).
 */
export function gateServer(
  server: net.Server,
  gate: ConnectionGate,
): (socket: net.Socket) => GateTicket | undefined {
  const tickets = new Map<string, GateTicket>();
  const keyOf = (socket: net.Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
  // First among the 'connection' listeners, so a plain server's handler finds the ticket.
  server.prependListener("connection", (socket: net.Socket) => {
    const ticket = gate.admit(socket);
    if (!ticket) return;
    const key = keyOf(socket);
    tickets.set(key, ticket);
    socket.once("close", () => tickets.delete(key));
  });
  // A failed handshake leaves the socket open under Deno: close it.
  server.on("tlsClientError", (_error: Error, socket: Duplex) => socket.destroy());
  return (socket) => tickets.get(keyOf(socket));
}

/** Accepts connections until the listener closes. */
async function acceptNative(listener: Deno.Listener, handle: (conn: Deno.Conn) => void) {
  try {
    for await (const conn of listener) {
      (conn as Deno.TcpConn).setNoDelay?.(true);
      handle(conn);
    }
  } catch {
    // the listener closed
  }
}

function closeConn(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

function closeListener(listener: Deno.Listener): void {
  try {
    listener.close();
  } catch {
    // already closed
  }
}

/** Listens; resolves with the bound port. */
export function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Stops listening; resolves once the server closed. */
export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts the listeners `config.hub` enables. */
export async function startListeners(
  options: {
    config: Config;
    broker: Broker;
    security: HubSecurity;
    logger: Logger;
    /** Requests on the HTTPS listener that are not a WebSocket upgrade (the methods API). */
    httpHandler: (request: Request, connection: RequestConnection) => Response | Promise<Response>;
    /** Takes WebSocket connections that agree to `AMQPWSB10`. */
    amqp?: ConnectionHandler;
  },
): Promise<Listeners> {
  const { config, broker, security, logger } = options;
  const servers: net.Server[] = [];
  const nativeListeners: Deno.Listener[] = [];
  const sockets = new Set<Duplex>();
  const ports: Record<string, number> = {};
  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const tlsServers: tls.Server[] = [];
  const gate = new ConnectionGate({
    maxConnections: config.hub.max_connections,
    deadlineMs: config.hub.connect_timeout_seconds * 1000,
    onRefused: (reason) => logger.warn("connection closed", { reason }),
  });
  const unsubscribe = security.onServerTlsChange(() => {
    const next = tlsOptions(security);
    for (const server of tlsServers) server.setSecureContext(next);
    logger.info("server certificate swapped in place", { listeners: tlsServers.length });
  });

  try {
    if (config.hub.mqtt.enabled) {
      const server = tls.createServer(
        { ...tlsOptions(security), requestCert: true, rejectUnauthorized: false },
        (socket) => {
          track(socket);
          socket.on("error", () => {});
          broker.handle(socket, {
            source: socket.remoteAddress ?? "unknown",
            peerChain: peerChain(socket),
            listener: "mqtts",
            ticket: ticketOf(socket),
          });
        },
      );
      const ticketOf = gateServer(server, gate);
      tlsServers.push(server);
      servers.push(server);
      ports.mqtts = await listen(server, config.hub.mqtt.port, config.hub.mqtt.bind);
    }
    if (config.hub.https.enabled) {
      const server = https.createServer(
        { ...tlsOptions(security), requestCert: true, rejectUnauthorized: false },
        nodeHandler(options.httpHandler),
      );
      const ticketOf = gateServer(server, gate);
      server.on("request", (req) => ticketOf(req.socket)?.established());
      const upgrades = new WebSocketUpgrades({
        maxPayload: Math.max(config.hub.max_message_bytes * 2, 4 << 20),
        amqpServed: options.amqp !== undefined,
        onUpgraded: (stream, protocol, req) => {
          track(stream);
          stream.on("error", () => {});
          const info = {
            source: req.socket.remoteAddress ?? "unknown",
            peerChain: peerChain(req.socket as tls.TLSSocket),
            ticket: ticketOf(req.socket),
          };
          if (protocol === WEBSOCKET_PROTOCOLS.amqp && options.amqp) {
            // The AMQP head authenticates with its own deadlines (SASL, CBS); the slot's
            // CONNECT deadline is MQTT's.
            info.ticket?.established();
            options.amqp.handle(stream, { ...info, listener: "amqpws" });
          } else {
            broker.handle(stream, { ...info, listener: "wss" });
          }
        },
      });
      server.on("upgrade", upgrades.upgrade);
      server.on("connection", track);
      tlsServers.push(server);
      servers.push(server);
      ports.https = await listen(server, config.hub.https.port, config.hub.https.bind);
    }
    if (config.hub.plain.enabled) {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: config.hub.plain.port });
      nativeListeners.push(listener);
      ports.plain = listener.addr.port;
      acceptNative(listener, (conn) => {
        const ticket = gate.admit({ destroy: () => closeConn(conn), once: () => {} });
        if (!ticket) return;
        broker.handleConn(conn, {
          source: (conn.remoteAddr as Deno.NetAddr).hostname,
          peerChain: [],
          listener: "plain",
          ticket,
        });
      });
    }
  } catch (error) {
    unsubscribe();
    for (const listener of nativeListeners) closeListener(listener);
    await Promise.all(servers.map(closeServer));
    throw new Error(`Cannot start hub listeners: ${(error as Error).message}`, { cause: error });
  }
  logger.info("hub listening", ports);
  return {
    ports,
    gate,
    async close() {
      unsubscribe();
      for (const listener of nativeListeners) closeListener(listener);
      const closing = servers.map(closeServer);
      for (const socket of sockets) socket.destroy();
      await Promise.all(closing);
    },
  };
}
