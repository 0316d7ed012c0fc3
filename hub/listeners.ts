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
import { WebSocketServer } from "ws";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { Broker } from "./broker.ts";
import { nodeHandler } from "./node_fetch.ts";
import type { HubSecurity } from "./security_port.ts";
import { websocketStream } from "./websocket_stream.ts";

/** The path MQTT-over-WebSocket clients (the SDK's MqttWs) connect to. */
export const WEBSOCKET_PATH = "/$iothub/websocket";

/** Running listeners and where they listen. */
export interface Listeners {
  /** Bound ports by listener name ("mqtts", "https", "plain"). */
  readonly ports: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

/**
 * The client's certificate, as a one-element chain. Only the leaf: under Deno 2.9 the issuer
 * links of `getPeerCertificate(true)` are not the chain the client sent (measured: the client's
 * leaf, then this server's own certificate, then the edge CA), and the security manager needs
 * only the leaf, which it checks against the CAs it knows or a registered thumbprint.
 */
function peerChain(socket: tls.TLSSocket): Uint8Array[] {
  const leaf = socket.getPeerCertificate() as tls.PeerCertificate | undefined;
  return leaf?.raw ? [new Uint8Array(leaf.raw)] : [];
}

function tlsOptions(security: HubSecurity): tls.SecureContextOptions {
  const { certPem, keyPem, chainPem } = security.serverTls();
  // chainPem is the leaf followed by its issuers: serve it whole so clients that trust only the
  // root can verify.
  return { cert: chainPem || certPem, key: keyPem };
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
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
    httpHandler: (request: Request) => Response | Promise<Response>;
  },
): Promise<Listeners> {
  const { config, broker, security, logger } = options;
  const servers: net.Server[] = [];
  const sockets = new Set<Duplex>();
  const ports: Record<string, number> = {};
  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const tlsServers: tls.Server[] = [];
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
          });
        },
      );
      server.on("tlsClientError", () => {});
      tlsServers.push(server);
      servers.push(server);
      ports.mqtts = await listen(server, config.hub.mqtt.port, config.hub.mqtt.bind);
    }
    if (config.hub.https.enabled) {
      const server = https.createServer(
        { ...tlsOptions(security), requestCert: true, rejectUnauthorized: false },
        nodeHandler(options.httpHandler),
      );
      const wss = new WebSocketServer({
        noServer: true,
        maxPayload: config.hub.max_message_bytes * 2,
      });
      server.on("upgrade", (req, socket, head) => {
        const path = (req.url ?? "").split("?")[0];
        if (path !== WEBSOCKET_PATH) {
          socket.destroy();
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          const stream = websocketStream(ws);
          track(stream);
          stream.on("error", () => {});
          broker.handle(stream, {
            source: req.socket.remoteAddress ?? "unknown",
            peerChain: peerChain(req.socket as tls.TLSSocket),
            listener: "wss",
          });
        });
      });
      server.on("connection", track);
      server.on("tlsClientError", () => {});
      tlsServers.push(server);
      servers.push(server);
      ports.https = await listen(server, config.hub.https.port, config.hub.https.bind);
    }
    if (config.hub.plain.enabled) {
      const server = net.createServer((socket) => {
        track(socket);
        socket.on("error", () => {});
        broker.handle(socket, {
          source: socket.remoteAddress ?? "unknown",
          peerChain: [],
          listener: "plain",
        });
      });
      servers.push(server);
      ports.plain = await listen(server, config.hub.plain.port, "127.0.0.1");
    }
  } catch (error) {
    unsubscribe();
    await Promise.all(servers.map(closeServer));
    throw new Error(`Cannot start hub listeners: ${(error as Error).message}`, { cause: error });
  }
  logger.info("hub listening", ports);
  return {
    ports,
    async close() {
      unsubscribe();
      const closing = servers.map(closeServer);
      for (const socket of sockets) socket.destroy();
      await Promise.all(closing);
    },
  };
}
