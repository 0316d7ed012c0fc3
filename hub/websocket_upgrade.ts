/**
 * WebSocket upgrades on the HTTPS listener (MQTT at `/$iothub/websocket`, AMQP when offered).
 * `ws` is loaded at the first upgrade, not at start: it is a CommonJS package, and the first one
 * a process loads brings Deno's CommonJS loader with it (~13 MB of idle RSS for a daemon that
 * may never see a WebSocket client). The path and subprotocol are checked before that; the
 * client sends nothing before the 101 answer, so the socket can wait for the import.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { websocketStream } from "./websocket_stream.ts";

/** The path MQTT-over-WebSocket clients (the SDK's MqttWs) connect to. */
export const WEBSOCKET_PATH = "/$iothub/websocket";

/** WebSocket subprotocols the hub agrees to: MQTT, and AMQP (the SDK's AmqpWs). */
export const WEBSOCKET_PROTOCOLS = { mqtt: "mqtt", amqp: "AMQPWSB10" } as const;

/**
 * The subprotocol to agree to: AMQP when offered (and served), else MQTT; none offered means
 * MQTT (older clients send no header). Undefined: nothing offered is served.
 */
export function chooseWebSocketProtocol(
  header: string | undefined,
  amqpServed: boolean,
): string | undefined {
  if (header === undefined || header.trim() === "") return WEBSOCKET_PROTOCOLS.mqtt;
  const offered = header.split(",").map((protocol) => protocol.trim());
  if (amqpServed && offered.includes(WEBSOCKET_PROTOCOLS.amqp)) return WEBSOCKET_PROTOCOLS.amqp;
  if (offered.includes(WEBSOCKET_PROTOCOLS.mqtt)) return WEBSOCKET_PROTOCOLS.mqtt;
  return undefined;
}

function refuseUpgrade(socket: Duplex, status: string, message: string): void {
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${new TextEncoder().encode(message).length}\r\n\r\n${message}`,
  );
}

/** An upgraded connection as a byte stream, with the subprotocol agreed. */
export type UpgradedHandler = (stream: Duplex, protocol: string, request: IncomingMessage) => void;

/** Answers the HTTPS listener's `upgrade` events; loads `ws` on the first one it accepts. */
export class WebSocketUpgrades {
  readonly #maxPayload: number;
  readonly #amqpServed: boolean;
  readonly #onUpgraded: UpgradedHandler;
  #server: Promise<WebSocketServer> | undefined;

  constructor(options: { maxPayload: number; amqpServed: boolean; onUpgraded: UpgradedHandler }) {
    this.#maxPayload = options.maxPayload;
    this.#amqpServed = options.amqpServed;
    this.#onUpgraded = options.onUpgraded;
  }

  /** The `upgrade` listener of an HTTP server. */
  readonly upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? "").split("?")[0];
    if (path !== WEBSOCKET_PATH) {
      socket.destroy();
      return;
    }
    const offered = request.headers["sec-websocket-protocol"];
    const protocol = chooseWebSocketProtocol(offered, this.#amqpServed);
    if (protocol === undefined) {
      refuseUpgrade(
        socket,
        "400 Bad Request",
        `Cannot upgrade: subprotocol "${offered}" is not served here; offer ` +
          `"${WEBSOCKET_PROTOCOLS.mqtt}" or "${WEBSOCKET_PROTOCOLS.amqp}"`,
      );
      return;
    }
    // Until ws takes the socket, an error (a reset while it loads) must not go unhandled.
    const ignore = () => {};
    socket.on("error", ignore);
    this.#websocketServer().then(
      (server) => {
        socket.off("error", ignore);
        server.handleUpgrade(request, socket, head, (ws: WebSocket) => {
          this.#onUpgraded(websocketStream(ws), protocol, request);
        });
      },
      () => socket.destroy(),
    );
  };

  #websocketServer(): Promise<WebSocketServer> {
    this.#server ??= import("ws").then(({ WebSocketServer }) =>
      new WebSocketServer({
        noServer: true,
        // A client may put many small frames into one WebSocket message.
        maxPayload: this.#maxPayload,
        handleProtocols: (protocols) =>
          chooseWebSocketProtocol([...protocols].join(","), this.#amqpServed) ?? false,
      })
    );
    return this.#server;
  }
}
