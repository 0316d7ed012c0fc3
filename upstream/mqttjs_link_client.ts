/**
 * mqtt.js as a {@linkcode LinkClient}: the link over WebSocket (`wss`), which ledge's own client
 * does not speak. Loaded on first use: a device without such an upstream never holds it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { IClientOptions, MqttClient, Packet } from "mqtt";
import type { ConnectSettings } from "./connect_settings.ts";
import type { LinkClient, LinkHandlers, LinkOptions } from "./link_client.ts";

type MqttLibrary = typeof import("mqtt");
let mqttLibrary: MqttLibrary | undefined;

/** Loads mqtt.js; needed once before {@linkcode mqttJsLinkClient}. */
export async function loadMqttJs(): Promise<void> {
  mqttLibrary ??= await import("mqtt");
}

/** Whether {@linkcode loadMqttJs} has loaded it. */
export function mqttJsLoaded(): boolean {
  return mqttLibrary !== undefined;
}

function clientOptions(
  settings: ConnectSettings,
  options: LinkOptions,
  mqtt: MqttLibrary,
): IClientOptions {
  const result: IClientOptions = {
    clientId: settings.clientId,
    username: settings.username,
    protocolVersion: 4,
    clean: false,
    keepalive: options.keepaliveSeconds,
    reconnectPeriod: 0,
    connectTimeout: options.connectTimeoutMs,
    rejectUnauthorized: true,
    resubscribe: false,
    // A store that survives `end(true)`: mqtt.js may still handle a PUBACK that was already
    // parsed when the client is ended, and its default store is gone by then.
    outgoingStore: new mqtt.Store({ clean: false }),
  };
  if (settings.password !== undefined) result.password = settings.password;
  if (settings.ca !== undefined) result.ca = settings.ca;
  if (settings.cert !== undefined) result.cert = settings.cert;
  if (settings.key !== undefined) result.key = settings.key;
  return result;
}

function handleMessage(
  client: MqttClient,
  handlers: LinkHandlers,
  packet: Packet,
  callback: (error?: Error) => void,
): void {
  if (packet.cmd !== "publish") return callback();
  const raw = packet.payload;
  const payload = typeof raw === "string"
    ? new TextEncoder().encode(raw)
    : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const result = handlers.message(packet.topic, payload);
  if (!(result instanceof Promise)) return callback();
  // A rejection: no PUBACK; the link drops so the parent delivers the message again.
  result.then(() => callback(), () => client.end(true));
}

/** Starts an mqtt.js client for one attempt; {@linkcode loadMqttJs} must have resolved. */
export function mqttJsLinkClient(
  settings: ConnectSettings,
  options: LinkOptions,
  handlers: LinkHandlers,
): LinkClient {
  const mqtt = mqttLibrary!;
  const client = mqtt.default.connect(settings.url, clientOptions(settings, options, mqtt));
  client.handleMessage = (packet, callback) => handleMessage(client, handlers, packet, callback);
  client.on("error", (error) => handlers.error(error));
  client.on("connect", () => {
    // Many small PUBLISHes are in flight together; Nagle's algorithm would hold a burst's tail
    // until the parent's delayed ACK (~40 ms).
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    handlers.connected();
  });
  client.on("close", () => handlers.closed());
  return {
    publish(topic, payload, qos, done) {
      const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      client.publish(topic, bytes, { qos }, (error) => done(error));
    },
    async subscribe(filters) {
      const granted = await client.subscribeAsync(
        Object.fromEntries(filters.map((filter) => [filter, { qos: 1 as const }])),
      );
      return granted.map((grant) => grant.qos);
    },
    end: () => void client.end(true),
    endAsync: async () => void await client.endAsync(true).catch(() => {}),
  };
}
