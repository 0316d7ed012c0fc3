/**
 * The two brokers of the broker benchmark, started as it measures them: a real `ledge run` (hub,
 * security, agent with 100 process modules) from main.ts or from the bundle as installed, and
 * mosquitto as a plain pub/sub broker. Private to bench/ (bench/broker.ts, bench/leak.ts).
 */
import { answer, createMgmtClient, type MgmtClient } from "../cli/_client.ts";
import type { HistogramSnapshot } from "../core/histogram.ts";
import { freePort } from "../tests/_services.ts";
import { workloadSasToken } from "../tests/_hub_mqtt.ts";
import { waitFor } from "../tests/_wait.ts";
import type { ClientSpec, IdleSpec, PairSpec } from "./_broker_load.ts";
import { BUNDLE_RUN_FLAGS } from "../scripts/bundle.ts";
import { prepareBundle } from "./footprint_bundle.ts";
import { type LedgeHeads, ledgeHeads } from "./broker_heads.ts";
import { deploymentManifest, type ManifestModule } from "../tests/_manifests.ts";
import { rssMegabytes } from "./_proc.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DEVICE = "bench-edge";
const HOST = "bench-hub.local";
/** Process modules ledge runs, each a connected client in the memory rows. */
export const MODULES = 100;
/** Sender/receiver pairs of the load. */
export const PAIRS = 4;

const moduleId = (i: number) => `m${String(i).padStart(3, "0")}`;

/** A broker under load. */
export interface Broker {
  name: string;
  /** PID whose RSS is measured. */
  pid: number;
  /** RSS (MB) once started, before any client (for ledge: before the deployment too). */
  startedRssMb: number;
  url: string;
  /** The CA to trust when `url` is `mqtts:`. */
  caPem?: string;
  pair(i: number): PairSpec;
  idle(i: number): IdleSpec;
  /** ledge only: what the AMQP and HTTPS rows need (TLS ports, tokens, leaf devices). */
  heads?: LedgeHeads;
  /** ledge only: how long its store's fdatasyncs took so far (`GET /v1/hub/stats`). */
  syncSeconds?(): Promise<HistogramSnapshot>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// ledge

function manifest() {
  const modules: Record<string, ManifestModule> = {};
  for (let i = 0; i < MODULES; i++) {
    modules[moduleId(i)] = {
      version: "1.0",
      type: "process",
      status: "running",
      restartPolicy: "never",
      settings: { command: "/bin/sleep", args: ["900"] },
    };
  }
  // The HTTPS rows' leaf telemetry goes to a queue nobody drains: every request is made durable.
  const routes: Record<string, string> = {
    http:
      `FROM /messages/* WHERE kind = 'bench' INTO BrokeredEndpoint("/modules/httpsink/inputs/in")`,
  };
  for (let p = 0; p < PAIRS; p++) {
    // A WHERE evaluated per message, as the target names it (true for every message).
    routes[`pair${p}`] = `FROM /messages/modules/${moduleId(2 * p)}/outputs/* ` +
      `WHERE $connectionModuleId = '${moduleId(2 * p)}' ` +
      `INTO BrokeredEndpoint("/modules/${moduleId(2 * p + 1)}/inputs/in")`;
  }
  return deploymentManifest(modules, { routes });
}

/** How ledge is launched: its `deno run` flags, and from source or from the bundle. */
export interface LedgeLaunch {
  denoFlags: readonly string[];
  bundle: boolean;
}

/** `deno` arguments of `ledge run` from `entry` (main.ts or the bundle) with `config`. */
function daemonArgs(launch: LedgeLaunch, entry: string, config: string): string[] {
  const bundle = launch.bundle ? BUNDLE_RUN_FLAGS : [];
  return ["run", "--allow-all", ...bundle, ...launch.denoFlags, entry, "run", "--config", config];
}

/**
 * One `ledge run` from main.ts with `config` until it is healthy, then stopped and its state dir
 * removed: it writes Deno's code cache of every module the daemon loads, as a device's first start
 * does. Without it, the bench's start after a change compiled the changed modules without the cache
 * and held more RSS (fully cold +27 MB; at 004da18, "once started" 90 MB vs the footprint group's
 * 80 MB idle, measured later in the same run).
 */
async function warmCodeCache(launch: LedgeLaunch, config: string, stateDir: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: daemonArgs(launch, `${ROOT}main.ts`, config),
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited: Deno.CommandStatus | undefined;
  child.status.then((status) => exited = status);
  const client = createMgmtClient(stateDir);
  try {
    await waitFor("ledge start (code cache warm-up)", () => {
      if (exited) throw new Error(`ledge exited during the warm-up (code ${exited.code})`);
      return answer(client.system.v1.health.$get());
    }, 60_000);
  } finally {
    client.close();
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  }
}

/** Writes the bench's ledge config (plain MQTT on `plainPort`, TLS heads on `tls`) in `dir`. */
async function writeLedgeConfig(
  dir: string,
  plainPort: number,
  tls: LedgeHeads["ports"],
): Promise<string> {
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(
    config,
    [
      `[state]\ndir = "${dir}/state"`,
      `[device]\nid = "${DEVICE}"\nhostname = "localhost"\niothub_hostname = "${HOST}"`,
      `[log]\nlevel = "warn"\nformat = "json"`,
      `[hub.mqtt]\nbind = "127.0.0.1"\nport = ${tls.mqtts}`,
      `[hub.https]\nbind = "127.0.0.1"\nport = ${tls.https}`,
      `[hub.amqp]\nbind = "127.0.0.1"\nport = ${tls.amqps}`,
      `[hub.plain]\nenabled = true\nport = ${plainPort}`,
      `[metrics]\nenabled = false`,
      `[agent]\nengine = "none"`,
    ].join("\n") + "\n",
  );
  return config;
}

/** A SAS token of each module, asked of its workload socket (as a module would). */
async function moduleTokens(
  dir: string,
  modules: readonly { moduleId?: string | undefined; generationId: string }[],
): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const { moduleId: id, generationId } of modules) {
    const socketPath = `${dir}/state/mnt/${id}/workload.sock`;
    const token = await waitFor(`the workload socket of ${id}`, () =>
      workloadSasToken({
        socketPath,
        iothubHostname: HOST,
        deviceId: DEVICE,
        moduleId: id!,
        generationId,
        lifetimeSeconds: 7200,
      }), 30_000);
    tokens.set(id!, token);
  }
  return tokens;
}

/**
 * Spawns the measured `ledge run`: the last of its stderr is kept (for errors), an exit before
 * `stop` is reported, and `stop` ends it and removes `dir`.
 */
function spawnLedge(
  launch: LedgeLaunch,
  entry: string,
  env: Record<string, string>,
  config: string,
  dir: string,
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: daemonArgs(launch, entry, config),
    env,
    cwd: launch.bundle ? dir : ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr: string[] = [];
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr.push(chunk);
      if (stderr.length > 100) stderr.shift();
    }
  })();
  let stopping = false;
  const stop = async () => {
    stopping = true;
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    await reading;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  child.status.then(async (status) => {
    if (stopping) return;
    await reading;
    console.error(
      `bench: ledge exited during the run (code ${status.code}, signal ${status.signal}):\n` +
        stderr.join("").slice(-3000),
    );
  });
  return { child, stderr, stop };
}

/** Starts `ledge run` with 100 provisioned process modules, as this bench measures it. */
export async function startLedge(launch: LedgeLaunch): Promise<Broker> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bench-broker-" });
  const plainPort = freePort();
  const tlsPorts = { mqtts: freePort(), https: freePort(), amqps: freePort() };
  const config = await writeLedgeConfig(dir, plainPort, tlsPorts);
  // The bundle runs from a directory with nothing else in it, as installed.
  // The bundle runs with no code cache and analysed, as the executable's launcher has it.
  const bundle = launch.bundle ? await prepareBundle(dir) : undefined;
  const entry = bundle?.entry ?? `${ROOT}main.ts`;
  if (!bundle) await warmCodeCache(launch, config, `${dir}/state`);
  const { child, stderr, stop } = spawnLedge(launch, entry, bundle?.env ?? {}, config, dir);
  let client: MgmtClient | undefined;
  try {
    client = createMgmtClient(`${dir}/state`);
    const mgmt = client;
    await waitFor("ledge start", () => answer(mgmt.system.v1.health.$get()));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const startedRssMb = rssMegabytes(child.pid);
    await answer(mgmt.agent.v1.deployment.$put({ json: manifest(), query: {} }));
    const modules = await waitFor("provisioning 100 modules", async () => {
      const { identities } = await answer(mgmt.security.v1.identities.$get());
      const found = identities.filter((identity) => identity.moduleId?.startsWith("m"));
      return found.length === MODULES ? found : undefined;
    }, 120_000);
    const tokens = await moduleTokens(dir, modules);
    const heads = await ledgeHeads(mgmt, {
      dir,
      host: HOST,
      device: DEVICE,
      tokens,
      ports: tlsPorts,
    });
    const spec = (id: string): ClientSpec => ({
      clientId: `${DEVICE}/${id}`,
      username: `${HOST}/${DEVICE}/${id}/?api-version=2021-04-12`,
      password: tokens.get(id)!,
    });
    return {
      name: "ledge",
      pid: child.pid,
      startedRssMb,
      url: `mqtt://127.0.0.1:${plainPort}`,
      heads,
      syncSeconds: () => storeSyncSeconds(`${dir}/state`),
      pair: (p) => ({
        sender: spec(moduleId(2 * p)),
        receiver: spec(moduleId(2 * p + 1)),
        publishTopic: `devices/${DEVICE}/modules/${moduleId(2 * p)}/messages/events/%24.on=out`,
        subscribeFilter: `devices/${DEVICE}/modules/${moduleId(2 * p + 1)}/inputs/#`,
      }),
      idle: (i) => ({
        ...spec(moduleId(i)),
        // What ModuleClient.open() subscribes to, plus inputs.
        filters: [
          `devices/${DEVICE}/modules/${moduleId(i)}/inputs/#`,
          "$iothub/methods/POST/#",
          "$iothub/twin/res/#",
          "$iothub/twin/PATCH/properties/desired/#",
        ],
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${stderr.join("").slice(-2000)}`);
  } finally {
    client?.close();
  }
}

/** The store's fdatasync durations of the ledge whose state dir is `stateDir`. */
async function storeSyncSeconds(stateDir: string): Promise<HistogramSnapshot> {
  const mgmt = createMgmtClient(stateDir);
  try {
    return (await answer(mgmt.hub.v1.hub.stats.$get())).store.syncs.seconds;
  } finally {
    mgmt.close();
  }
}

// ---------------------------------------------------------------------------------------------
// mosquitto

export async function startMosquitto(): Promise<Broker> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bench-mosquitto-" });
  const port = freePort();
  // The same delivery window as ledge's hub.max_inflight and no queue limit, so neither broker
  // drops or throttles what the other would deliver.
  await Deno.writeTextFile(
    `${dir}/mosquitto.conf`,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence false",
      "max_inflight_messages 256",
      "max_queued_messages 0",
      "log_dest none",
    ].join("\n") + "\n",
  );
  const child = new Deno.Command(mosquittoPath(), {
    args: ["-c", `${dir}/mosquitto.conf`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitFor("mosquitto start", async () => {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      connection.close();
      return true;
    }, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: "mosquitto",
    pid: child.pid,
    startedRssMb: rssMegabytes(child.pid),
    url: `mqtt://127.0.0.1:${port}`,
    pair: (p) => ({
      sender: { clientId: `sender-${p}` },
      receiver: { clientId: `receiver-${p}` },
      publishTopic: `bench/pair${p}`,
      subscribeFilter: `bench/pair${p}`,
    }),
    idle: (i) => ({
      clientId: `idle-${i}`,
      filters: [`bench/idle${i}/inputs/#`, `bench/idle${i}/methods/#`, `bench/idle${i}/twin/#`],
    }),
    stop,
  };
}

function mosquittoPath(): string {
  for (const path of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* next */ }
  }
  throw new Error("Cannot benchmark the broker: mosquitto is not installed");
}
