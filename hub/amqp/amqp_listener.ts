/**
 * AMQP over TLS on `hub.amqp` (5671 as root). The server certificate is the security manager's,
 * swapped in place when it renews; a TLS client certificate is asked for, not required (X.509
 * devices and modules authenticate with it, the others with CBS tokens).
 */
import type net from "node:net";
import tls from "node:tls";
import type { Config } from "../../core/config.ts";
import type { Logger } from "../../core/log.ts";
import type { ConnectionGate } from "../connection_gate.ts";
import { closeServer, gateServer, listen, peerChain, tlsOptions } from "../listeners.ts";
import type { HubSecurity } from "../security_port.ts";
import type { AmqpHead } from "./amqp_head.ts";

/** The running listener. */
export interface AmqpListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the AMQP/TLS listener of `config.hub.amqp`. */
export async function startAmqpListener(
  options: {
    config: Config;
    head: AmqpHead;
    security: HubSecurity;
    logger: Logger;
    /** The hub's bound on open connections, shared with its other listeners. */
    gate: ConnectionGate;
  },
): Promise<AmqpListener> {
  const { config, head, security, logger } = options;
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    { ...tlsOptions(security), requestCert: true, rejectUnauthorized: false },
    (socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      socket.setNoDelay(true);
      // Past TLS, the AMQP head's own deadline applies (it closes with an AMQP error).
      ticketOf(socket)?.established();
      head.handle(socket, {
        source: socket.remoteAddress ?? "unknown",
        peerChain: peerChain(socket),
        listener: "amqp",
      });
    },
  );
  // Each socket holds a slot under hub.max_connections from accept, before TLS, until it closes.
  const ticketOf = gateServer(server, options.gate);
  const unsubscribe = security.onServerTlsChange(() => {
    server.setSecureContext(tlsOptions(security));
  });
  let port: number;
  try {
    port = await listen(server, config.hub.amqp.port, config.hub.amqp.bind);
  } catch (error) {
    unsubscribe();
    throw new Error(
      `Cannot listen for AMQP on ${config.hub.amqp.bind}:${config.hub.amqp.port} (hub.amqp): ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  logger.info("hub listening", { amqps: port });
  return {
    port,
    async close() {
      unsubscribe();
      const closing = closeServer(server);
      for (const socket of sockets) socket.destroy();
      await closing;
    },
  };
}
