/**
 * A real mosquitto as the upstream parent for tests: a CA and server certificate made with
 * openssl, a TLS listener on a free port, persistence so a restart keeps queued messages, and an
 * MQTT reader on the parent side that collects every telemetry message.
 */
import mqtt, { type MqttClient } from "mqtt";
import { type MessageStore, openMessageStore } from "../store/mod.ts";
import { createUpstreamComponent, type UpstreamComponent } from "../upstream/mod.ts";
import { parsePropertyBag } from "../iothub/mod.ts";
import { parseConfigText } from "../core/config_load.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { freePort } from "./_services.ts";
import { waitFor } from "./_wait.ts";

async function run(command: string, args: string[], cwd: string): Promise<void> {
  const { success, stderr } = await new Deno.Command(command, { args, cwd, stdout: "null" })
    .output();
  if (!success) {
    throw new Error(`${command} ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`);
  }
}

/** PEM files of a test PKI: the parent's CA and server certificate, and an unrelated CA. */
export interface ParentPki {
  dir: string;
  caFile: string;
  serverCert: string;
  serverKey: string;
  /** A CA that did not sign the parent's certificate. */
  wrongCaFile: string;
}

/** Makes the PKI with openssl in `dir`. */
export async function makeParentPki(dir: string): Promise<ParentPki> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  for (const name of ["ca", "wrong-ca"]) {
    await run("openssl", [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
    ], dir);
  }
  await run("openssl", [
    "req",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ], dir);
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  ], dir);
  return {
    dir,
    caFile: `${dir}/ca.pem`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
    wrongCaFile: `${dir}/wrong-ca.pem`,
  };
}

/** A mosquitto that can be stopped and started again on the same port and data; disposing stops it. */
export interface MosquittoParent extends AsyncDisposable {
  port: number;
  start(): Promise<void>;
  /** SIGTERM: mosquitto saves its persistent sessions on the way out. */
  stop(): Promise<void>;
  readonly running: boolean;
}

/** Waits until mosquitto accepts connections on `port` (a process starting on a busy machine). */
async function waitForPort(port: number): Promise<void> {
  await waitFor(`mosquitto listening on ${port}`, async () => {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  }, 30_000);
}

/** Configures (does not start) a mosquitto on `pki`; `extra` lines are appended to its config. */
export function mosquittoParent(pki: ParentPki, extra: string[] = []): MosquittoParent {
  const port = freePort();
  const lines = [
    "per_listener_settings false",
    "allow_anonymous true",
    "persistence true",
    `persistence_location ${pki.dir}/`,
    "max_queued_messages 0",
    "max_inflight_messages 1000",
    `listener ${port} 127.0.0.1`,
    `cafile ${pki.caFile}`,
    `certfile ${pki.serverCert}`,
    `keyfile ${pki.serverKey}`,
    ...(Deno.uid() === 0 ? ["user root"] : []),
    ...extra,
  ];
  const configFile = `${pki.dir}/mosquitto-${port}.conf`;
  Deno.writeTextFileSync(configFile, lines.join("\n") + "\n");
  let child: Deno.ChildProcess | undefined;
  return {
    port,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) return;
      child = new Deno.Command("mosquitto", {
        args: ["-c", configFile],
        stdout: "null",
        stderr: "null",
      }).spawn();
      await waitForPort(port);
    },
    async stop() {
      if (!child) return;
      const stopping = child;
      child = undefined;
      stopping.kill("SIGTERM");
      await stopping.status;
    },
    [Symbol.asyncDispose]() {
      return this.stop();
    },
  };
}

/** A temporary directory with a parent's PKI and a mosquitto configured (not started) on it. */
export interface ParentSite extends AsyncDisposable {
  dir: string;
  pki: ParentPki;
  parent: MosquittoParent;
  /** `[upstream]` lines for a child of this parent with `key` (and `extra` lines). */
  linkToml(key: string, extra?: string): string;
}

/**
 * Makes a {@link ParentSite}; `extra` lines (or a function of its directory giving them) go into
 * mosquitto's config. Disposing it stops
 * mosquitto and removes the directory.
 */
export async function parentSite(
  extra: string[] | ((dir: string) => string[]) = [],
): Promise<ParentSite> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-upstream-" });
  try {
    const pki = await makeParentPki(dir);
    const parent = mosquittoParent(pki, typeof extra === "function" ? extra(dir) : extra);
    return {
      dir,
      pki,
      parent,
      linkToml: (key, extra) =>
        [
          `hostname = "localhost"`,
          `port = ${parent.port}`,
          `ca_file = "${pki.caFile}"`,
          `shared_access_key = "${key}"`,
          ...(extra ? [extra] : []),
        ].join("\n"),
      async [Symbol.asyncDispose]() {
        await parent.stop();
        await Deno.remove(dir, { recursive: true });
      },
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

/** One telemetry message the parent received. */
export interface ReceivedMessage {
  topic: string;
  deviceId: string;
  moduleId: string | undefined;
  properties: Map<string, string>;
  body: string;
}

/** A parent-side reader of `devices/+/messages/events/#` and the module form, QoS 1; disposing closes it. */
export interface ParentReader extends AsyncDisposable {
  messages: ReceivedMessage[];
  /** Distinct `$.mid` values seen. */
  ids: Set<string>;
  /** Resolves once `count` distinct message ids arrived; rejects after `timeoutMs`. */
  waitForIds(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const TELEMETRY = /^devices\/([^/]+)\/(?:modules\/([^/]+)\/)?messages\/events\/?(.*)$/;

/** Connects a reader with a persistent session (it survives parent restarts). */
export async function parentReader(parent: MosquittoParent, caFile: string): Promise<ParentReader> {
  const client: MqttClient = await mqtt.connectAsync(`mqtts://localhost:${parent.port}`, {
    ca: await Deno.readTextFile(caFile),
    clientId: `reader-${crypto.randomUUID()}`,
    clean: false,
    reconnectPeriod: 200,
    protocolVersion: 4,
  });
  await client.subscribeAsync({
    "devices/+/messages/events/#": { qos: 1 },
    "devices/+/modules/+/messages/events/#": { qos: 1 },
  });
  const messages: ReceivedMessage[] = [];
  const ids = new Set<string>();
  let waiter: { count: number; resolve: () => void } | undefined;
  client.on("message", (topic, payload) => {
    const match = TELEMETRY.exec(topic);
    if (!match) return;
    const properties = parsePropertyBag(match[3] ?? "");
    messages.push({
      topic,
      deviceId: match[1]!,
      moduleId: match[2],
      properties,
      body: new TextDecoder().decode(payload),
    });
    const id = properties.get("$.mid");
    if (id !== undefined) ids.add(id);
    if (waiter && ids.size >= waiter.count) waiter.resolve();
  });
  return {
    messages,
    ids,
    waitForIds(count, timeoutMs) {
      if (ids.size >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`only ${ids.size} of ${count} messages arrived in ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          },
        };
      });
    },
    async close() {
      await client.endAsync(true);
    },
    async [Symbol.asyncDispose]() {
      await client.endAsync(true);
    },
  };
}

/** A child: a real message store and the upstream component pointed at a parent; disposing stops it. */
export interface UpstreamChild extends AsyncDisposable {
  store: MessageStore;
  component: UpstreamComponent;
  logs: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds a child with state in `dir`; `upstreamToml` lines go into `[upstream]`. */
export function upstreamChild(
  dir: string,
  options: {
    deviceId?: string;
    upstreamToml: string;
    heldModules?: string[];
    /** The clock of the store and the link (default Date.now), for tests where a TTL must run out. */
    now?: () => number;
  },
): UpstreamChild {
  const config = parseConfigText(
    `[device]\nid = "${options.deviceId ?? "child"}"\n[state]\ndir = "${dir}"\n` +
      `[upstream]\nenabled = true\nreconnect_max_seconds = 1\n${options.upstreamToml}\n`,
    { uid: 1000, hostname: "test", env: {} },
  );
  const logs: string[] = [];
  const logger: Logger = createLogger({
    level: "debug",
    format: "json",
    write: (line) => {
      logs.push(line);
      if (Deno.env.get("LEDGE_TEST_LOG")) console.error(line);
    },
  });
  const store = openMessageStore(`${dir}/queues.db`, {
    maxSizeBytes: 1024 * 1024 * 1024,
    synchronous: "NORMAL",
    ...(options.now ? { now: options.now } : {}),
  });
  const component = createUpstreamComponent({ config, stateDir: dir, logger }, {
    store,
    ...(options.heldModules ? { heldModules: options.heldModules } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  let started = false;
  let closed = false;
  return {
    store,
    component,
    logs,
    async start() {
      await component.start(new AbortController().signal);
      started = true;
    },
    async stop() {
      if (started) await component.stop();
      started = false;
      if (closed) return;
      closed = true;
      await store.close();
    },
    [Symbol.asyncDispose]() {
      return this.stop();
    },
  };
}
