/**
 * The `mqtt` npm client as a module or leaf device of the hub, for load, durability and
 * certificate tests: connect over MQTT/TLS with a SAS token or a client certificate, publish
 * numbered QoS 1 messages through a bounded window recording every PUBACK, and collect
 * deliveries. SAS tokens of modules come from the module's own workload socket, as a real
 * module gets them.
 */
import mqtt from "mqtt";
import { Buffer } from "node:buffer";

/** A connected client. */
export type MqttClient = mqtt.MqttClient;

/** How a client proves who it is. */
export type Credentials =
  | { kind: "sas"; token: string }
  | { kind: "x509"; certPem: string; keyPem: string };

/** Options of {@linkcode connectIdentity}. */
export interface ConnectOptions {
  port: number;
  /** PEM trust bundle the hub's server certificate must chain to. */
  caPem: string;
  /** The IoT hub host name used in the CONNECT username. */
  iothubHostname: string;
  deviceId: string;
  moduleId?: string;
  credentials: Credentials;
  /** Connect timeout; default 10 s. */
  timeoutMs?: number;
}

function strict(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * A SAS token for a module signed by its workload socket (`POST …/sign`), as the SDK's IoT
 * Edge authentication provider obtains it.
 */
export async function workloadSasToken(
  options: {
    socketPath: string;
    iothubHostname: string;
    deviceId: string;
    moduleId: string;
    generationId: string;
    lifetimeSeconds?: number;
  },
): Promise<string> {
  const audience =
    `${options.iothubHostname}/devices/${options.deviceId}/modules/${options.moduleId}`;
  const sr = strict(audience);
  const se = Math.floor(Date.now() / 1000) + (options.lifetimeSeconds ?? 3600);
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: options.socketPath } });
  try {
    const response = await fetch(
      `http://workload/modules/${options.moduleId}/genid/${options.generationId}/sign?api-version=2019-01-30`,
      {
        client,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          keyId: "primary",
          algo: "HMACSHA256",
          data: btoa(`${sr}\n${se}`),
        }),
      },
    );
    const body = await response.json() as { digest?: string; message?: string };
    if (!response.ok || !body.digest) {
      throw new Error(`Cannot sign a SAS token: workload API answered ${response.status}`);
    }
    return `SharedAccessSignature sr=${sr}&sig=${strict(body.digest)}&se=${se}`;
  } finally {
    client.close();
  }
}

/** Connects an identity to the hub over MQTT/TLS; rejects on CONNACK refusal or timeout. */
export function connectIdentity(options: ConnectOptions): Promise<MqttClient> {
  const clientId = options.moduleId === undefined
    ? options.deviceId
    : `${options.deviceId}/${options.moduleId}`;
  const credentials = options.credentials;
  const client = mqtt.connect({
    protocol: "mqtts",
    host: "localhost",
    port: options.port,
    ca: options.caPem,
    servername: "localhost",
    clientId,
    username: `${options.iothubHostname}/${clientId}/?api-version=2021-04-12`,
    ...(credentials.kind === "sas"
      ? { password: credentials.token }
      : { cert: credentials.certPem, key: credentials.keyPem }),
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    keepalive: 60,
    connectTimeout: options.timeoutMs ?? 10_000,
  });
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      client.removeListener("connect", succeed);
      client.end(true);
      reject(error);
    };
    const succeed = () => {
      client.removeListener("error", fail);
      client.removeListener("close", closed);
      client.on("error", () => {});
      resolve(client);
    };
    const closed = () => fail(new Error(`Cannot connect ${clientId}: connection closed`));
    client.once("connect", succeed);
    client.once("error", fail);
    client.once("close", closed);
  });
}

/** Ends a client and waits until its socket is closed. */
export function closeClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(true, {}, () => resolve()));
}

/** Options of {@linkcode publishNumbered}. */
export interface PublishNumberedOptions {
  /** The numbers to send, in order. */
  numbers: readonly number[];
  /** Topic of message `n`. */
  topic(n: number): string;
  /** Body of message `n`; default the decimal number. */
  body?(n: number): Uint8Array | string;
  /** Unacknowledged publishes at once (the SDK's and mosquitto's client default is ~20–100). */
  window: number;
  /** Called on every PUBACK. */
  onAck?(n: number): void;
}

/** What {@linkcode publishNumbered} saw. */
export interface PublishOutcome {
  /** Numbers whose PUBACK arrived, in PUBACK order. */
  acked: number[];
  /** True when the connection closed before every message was acknowledged. */
  closed: boolean;
}

/**
 * Publishes numbered QoS 1 messages keeping at most `window` unacknowledged, and resolves when
 * all are acknowledged or the connection closes (then the rest count as not acknowledged).
 */
export function publishNumbered(
  client: MqttClient,
  options: PublishNumberedOptions,
): Promise<PublishOutcome> {
  const acked: number[] = [];
  let next = 0;
  let inflight = 0;
  let done = false;
  return new Promise((resolve) => {
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      client.removeListener("close", onClose);
      resolve({ acked, closed });
    };
    // mqtt.js works through the packets of one read on later ticks, and may emit 'close' while
    // PUBACKs that arrived before it are still queued: let those callbacks run first.
    const onClose = () => setTimeout(() => finish(true), 0);
    client.on("close", onClose);
    const pump = () => {
      while (!done && inflight < options.window && next < options.numbers.length) {
        const n = options.numbers[next++]!;
        inflight++;
        const body = options.body ? options.body(n) : String(n);
        client.publish(options.topic(n), Buffer.from(body), { qos: 1 }, (error) => {
          inflight--;
          if (done) return;
          if (error) return finish(true);
          acked.push(n);
          options.onAck?.(n);
          if (acked.length === options.numbers.length) return finish(false);
          pump();
        });
      }
    };
    if (options.numbers.length === 0) return finish(false);
    if (client.disconnected || !client.connected) return finish(true);
    pump();
  });
}

/** One message received by {@linkcode collectDeliveries}. */
export interface Delivery {
  topic: string;
  body: string;
}

/** Subscribes to `filter` (QoS 1) and records every delivery in arrival order. */
export async function collectDeliveries(
  client: MqttClient,
  filter: string,
): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  client.on("message", (topic, payload) => {
    deliveries.push({ topic, body: new TextDecoder().decode(payload) });
  });
  const granted = await client.subscribeAsync(filter, { qos: 1 });
  if (granted.some((grant) => grant.qos === 128)) {
    throw new Error(`Cannot subscribe to ${filter}: refused`);
  }
  return deliveries;
}
