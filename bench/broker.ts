/**
 * Broker benchmark: a real `ledge run` (hub, security, agent with 100 process modules) against
 * mosquitto as a plain pub/sub broker, driven by the same load generator
 * ({@linkcode ./_broker_load.ts}, several OS processes of the `mqtt` npm client).
 *
 * - Throughput: senders publish 256-byte QoS 1 messages with a publish window of 20 (libmosquitto's
 *   default `max_inflight_messages`); on ledge they are module outputs routed
 *   (`FROM /messages/modules/mX/outputs/* WHERE $connectionModuleId = 'mX' INTO BrokeredEndpoint(…)`,
 *   a WHERE every message passes) through the durable store to
 *   another module's input; on mosquitto they go from one topic to its subscriber. Figure: messages
 *   delivered per second. Variants: QoS 0 and 16 KiB bodies.
 * - Latency at a fixed offered rate of 5,000 msg/s (all senders together): publish-to-delivery
 *   p50, p99 and max, after a warm-up second at the same rate on the same connections (each run
 *   starts new generator processes and connections; that second's p99 is a row of its own).
 * - The disk's own fdatasync p50 and p99 (4 KiB appends in the temp dir, which holds the state
 *   dir), right before and right after each of ledge's latency runs: the floor under a PUBACK
 *   that waits for durability, on the disk as it was during the run; and ledge's p99 over it.
 * - Memory: RSS of the ledge process with 100 modules connected as the SDK connects them
 *   (subscribed to inputs, methods and twin topics), against mosquitto's RSS with the same clients.
 *
 * Both brokers are reached on loopback over plain MQTT (ledge's loopback-only plain listener), so
 * the comparison is of the brokers, not of TLS. ledge runs with the daemon's V8 flags
 * ({@linkcode DAEMON_V8_FLAGS}), from main.ts, or with `--bundle` from the bundle as installed.
 * Also measured: the CPU time ledge's process spends per message, and where its RSS is
 * (`--memory-detail`).
 *
 * Run alone: `deno run -A bench/broker.ts [--help] [--quick] [--runs=N] [--ledge-only] [--bundle]
 * [--memory-detail] [--v8-defaults | --deno-flags=… …]` (needs mosquitto). `--deno-flags` replace
 * the daemon's V8 flags on ledge's `deno run` (`--deno-flags=--cpu-prof` takes a CPU profile);
 * `--v8-defaults` runs ledge with V8's defaults.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { answer, createMgmtClient, type MgmtClient } from "../cli/_client.ts";
import { freePort } from "../tests/_services.ts";
import { workloadSasToken } from "../tests/_hub_mqtt.ts";
import type { BenchOptions, Figure } from "./_figure.ts";
import { waitFor } from "../tests/_wait.ts";
import type { ClientSpec, IdleSpec, LoadPlan, PairSpec } from "./_broker_load.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";
import { bundleLedge } from "../scripts/bundle.ts";
import { benchHeads, type LedgeHeads, ledgeHeads } from "./broker_heads.ts";
import { type LoadOutcome, measure, spread, startGenerator } from "./_load_runner.ts";
import { deploymentManifest, type ManifestModule } from "../tests/_manifests.ts";

const GROUP = "broker";
const ROOT = new URL("../", import.meta.url).pathname;
const DEVICE = "bench-edge";
const HOST = "bench-hub.local";
const MODULES = 100;
export const PAIRS = 4;
const GENERATORS = 2;
const WINDOW = 20;
const RATE_PER_SECOND = 5_000;
const SMALL = 256;
const LARGE = 16 * 1024;

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
    // A WHERE evaluated per message, as the issue's target names it (true for every message).
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

/** The bundle of main.ts in `dir`, as `deno task bundle` makes it, run once; returns the file. */
async function bundleInto(dir: string): Promise<string> {
  const out = `${dir}/ledge.js`;
  await bundleLedge(out);
  // One run first, as an installed bundle has had: the first run of a script compiles all of it
  // and writes Deno's code cache, which costs ~70 MB more RSS than a run that reads the cache.
  await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--allow-all", out, "version"],
    cwd: dir,
    stdout: "null",
    stderr: "null",
  }).output();
  return out;
}

/** `deno` arguments of `ledge run` from `entry` (main.ts or the bundle) with `config`. */
function daemonArgs(launch: LedgeLaunch, entry: string, config: string): string[] {
  const bundle = launch.bundle ? ["--no-config"] : [];
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
function spawnLedge(launch: LedgeLaunch, entry: string, config: string, dir: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: daemonArgs(launch, entry, config),
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
  const entry = launch.bundle ? await bundleInto(dir) : `${ROOT}main.ts`;
  if (!launch.bundle) await warmCodeCache(launch, config, `${dir}/state`);
  const { child, stderr, stop } = spawnLedge(launch, entry, config, dir);
  let client: MgmtClient | undefined;
  try {
    client = createMgmtClient(`${dir}/state`);
    const mgmt = client;
    await waitFor("ledge start", () => answer(mgmt.system.v1.health.$get()));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const startedRssMb = await rssMegabytes(child.pid);
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

// ---------------------------------------------------------------------------------------------
// mosquitto

async function startMosquitto(): Promise<Broker> {
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
    startedRssMb: await rssMegabytes(child.pid),
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

// ---------------------------------------------------------------------------------------------
// Load

/** Routes `options.messages` per pair through `broker`; resolves with the measurement. */
export async function runLoad(
  broker: Broker,
  options: {
    messages: number;
    qos: 0 | 1;
    payloadBytes: number;
    ratePerSecond?: number;
    /** Seconds at `ratePerSecond` before the measured messages (see `LoadPlan.warmupMessages`). */
    warmupSeconds?: number;
  },
): Promise<LoadOutcome> {
  const pairs = Array.from({ length: PAIRS }, (_, p) => broker.pair(p));
  const generators = spread(pairs, GENERATORS).map((group) =>
    startGenerator(
      {
        url: broker.url,
        ...(broker.caPem === undefined ? {} : { caPem: broker.caPem }),
        pairs: group,
        idle: [],
        messages: options.messages,
        window: WINDOW,
        payloadBytes: options.payloadBytes,
        qos: options.qos,
        ...(options.ratePerSecond === undefined ? {} : {
          ratePerSecond: options.ratePerSecond / PAIRS,
          warmupMessages: Math.round(
            (options.ratePerSecond / PAIRS) * (options.warmupSeconds ?? 0),
          ),
        }),
        drainTimeoutMs: 15_000,
      } satisfies LoadPlan,
    )
  );
  return await measure(broker.pid, generators, PAIRS * options.messages);
}

/**
 * fdatasync latencies (ms, sorted) of 4 KiB appends to a file on the disk that holds the state
 * dir (both in the temp dir): the floor under a PUBACK that waits for durability.
 */
async function fdatasyncLatencies(count: number): Promise<number[]> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bench-fsync-" });
  const file = await Deno.open(`${dir}/probe`, { create: true, write: true, append: true });
  const block = new Uint8Array(4096).fill(7);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      await file.write(block);
      const begun = performance.now();
      await file.syncData();
      latencies.push(performance.now() - begun);
    }
  } finally {
    file.close();
    await Deno.remove(dir, { recursive: true });
  }
  return latencies.toSorted((a, b) => a - b);
}

/** Seconds of load at the latency row's rate before its measured window. */
const LATENCY_WARMUP_SECONDS = 1;

/**
 * One latency run of each broker at `RATE_PER_SECOND` after its warm-up; for ledge also the
 * disk's fdatasync latencies right before and right after its run (`syncs` appends each time).
 * Pushes `<broker>/p50|p99|max|warmup-p99|behind|due-p99`, `disk/p50|p99` and `ledge/over-disk-p99` into `latency`.
 */
async function latencyRun(
  brokers: readonly Broker[],
  options: { seconds: number; syncs: number },
  push: (key: string, value: number) => void,
): Promise<void> {
  let disk: number[] = [];
  for (const broker of brokers) {
    const ledge = broker.name === "ledge";
    if (ledge) disk = await fdatasyncLatencies(options.syncs);
    const outcome = await runLoad(broker, {
      messages: (RATE_PER_SECOND / PAIRS) * options.seconds,
      qos: 1,
      payloadBytes: SMALL,
      ratePerSecond: RATE_PER_SECOND,
      warmupSeconds: LATENCY_WARMUP_SECONDS,
    });
    if (ledge) disk = [...disk, ...await fdatasyncLatencies(options.syncs)];
    checkComplete(broker, outcome, "latency");
    const sorted = outcome.latenciesMs.toSorted((a, b) => a - b);
    push(`${broker.name}/p50`, percentile(sorted, 50));
    push(`${broker.name}/p99`, percentile(sorted, 99));
    push(`${broker.name}/max`, sorted[sorted.length - 1] ?? NaN);
    const warmup = outcome.warmupLatenciesMs.toSorted((a, b) => a - b);
    push(`${broker.name}/warmup-p99`, percentile(warmup, 99));
    push(`${broker.name}/behind`, (100 * outcome.behindSchedule) / outcome.received);
    push(`${broker.name}/rate-cost`, outcome.cpuMicrosPerMessage);
    const due = outcome.dueLatenciesMs.toSorted((x, y) => x - y);
    push(`${broker.name}/due-p99`, percentile(due, 99));
    if (!ledge) continue;
    disk.sort((a, b) => a - b);
    push("disk/p50", percentile(disk, 50));
    push("disk/p99", percentile(disk, 99));
    push("ledge/over-disk-p99", percentile(sorted, 99) - percentile(disk, 99));
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Where `pid`'s resident memory is, from /proc/<pid>/smaps, in MB: file-backed (code of the
 * binary and libraries), the brk heap (malloc's main arena), other anonymous mappings (the V8
 * heap, malloc's thread arenas, stacks).
 */
async function memoryDetail(pid: number): Promise<Record<string, number>> {
  const smaps = await Deno.readTextFile(`/proc/${pid}/smaps`);
  const totals: Record<string, number> = { file: 0, brk: 0, anonymous: 0 };
  let kind = "anonymous";
  for (const line of smaps.split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1]!;
      kind = name === "[heap]" ? "brk" : name.startsWith("/") ? "file" : "anonymous";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) totals[kind] = totals[kind]! + Number(rss[1]) / 1024;
  }
  return totals;
}

/** RSS of process `pid`, in MB. */
export async function rssMegabytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`Cannot read the RSS of process ${pid}`);
  return Number(match[1]) / 1024;
}

/** RSS of `broker` with `MODULES` clients connected and subscribed. */
async function rssWithClients(broker: Broker, detail: boolean): Promise<number> {
  const idle = Array.from({ length: MODULES }, (_, i) => broker.idle(i));
  const generators = spread(idle, GENERATORS).map((group) =>
    startGenerator(
      {
        url: broker.url,
        pairs: [],
        idle: group,
        messages: 0,
        window: 1,
        payloadBytes: 0,
        qos: 0,
        drainTimeoutMs: 0,
      } satisfies LoadPlan,
    )
  );
  try {
    await Promise.all(generators.map((generator) => generator.ready));
    await Promise.all(generators.map((generator) => generator.send("go")));
    await Promise.all(generators.map((generator) => generator.done));
    // Let the collector settle: the figure is what the process holds, not a transient peak.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (detail) {
      const parts = Object.entries(await memoryDetail(broker.pid))
        .map(([kind, mb]) => `${kind} ${mb.toFixed(1)} MB`).join(", ");
      console.error(`bench: ${broker.name} RSS by mapping: ${parts}`);
    }
    return await rssMegabytes(broker.pid);
  } finally {
    await Promise.all(generators.map((generator) => generator.send("quit").catch(() => {})));
    await Promise.all(generators.map((generator) => generator.close()));
  }
}

function checkComplete(broker: Broker, outcome: LoadOutcome, what: string): void {
  if (outcome.received < outcome.expected) {
    throw new Error(
      `Cannot benchmark the broker: ${broker.name} delivered ${outcome.received} of ` +
        `${outcome.expected} messages (${what})`,
    );
  }
}

export { DAEMON_V8_FLAGS };

/** Knobs for measuring ledge under other settings (`bench/broker.ts --deno-flags=… --runs=N`). */
export interface BrokerBenchTuning {
  /**
   * `deno run` flags for the ledge process instead of `--v8-flags=${DAEMON_V8_FLAGS}`, e.g.
   * `--v8-flags=--max-old-space-size=64`; an empty list runs V8's defaults.
   */
  denoFlags?: readonly string[];
  /** Run the bundle (`deno task bundle`) from an empty directory, as installed, not main.ts. */
  bundle?: boolean;
  /** Runs per figure instead of 3 (1 in `quick`). */
  runs?: number;
  /** Measure ledge alone (no mosquitto run): quicker, for comparing ledge against itself. */
  ledgeOnly?: boolean;
  /** Print where the RSS is (file-backed, brk heap, anonymous) at each RSS reading. */
  memoryDetail?: boolean;
}

/**
 * Measures ledge's hub against mosquitto: QoS 1 module→route→module throughput (256 B, and
 * QoS 0 and 16 KiB variants), latency at 5,000 msg/s, and RSS with 100 connected modules.
 * Three runs per figure (one in `quick`, which finishes in about half a minute).
 */
/** What the broker bench measured of each broker, keyed `<broker>/<variant>`. */
interface BrokerSamples {
  throughput: Map<string, number[]>;
  cpuCost: Map<string, number[]>;
  latency: Map<string, number[]>;
  /** One reading per broker, in `brokers` order. */
  rssIdle: number[];
  rssLoaded: number[];
}

/** The load, latency and memory runs of the broker bench over `brokers` (ledge first). */
async function measureBrokers(
  brokers: Broker[],
  options: BenchOptions,
  tuning: BrokerBenchTuning,
  runs: number,
  messages: number,
): Promise<BrokerSamples> {
  const latencySeconds = options.quick ? 1 : 5;
  const variants = [
    { key: "qos1", qos: 1 as const, payloadBytes: SMALL, messages },
    { key: "qos0", qos: 0 as const, payloadBytes: SMALL, messages },
    { key: "large", qos: 1 as const, payloadBytes: LARGE, messages: Math.ceil(messages / 5) },
  ];
  const throughput = new Map<string, number[]>();
  const cpuCost = new Map<string, number[]>();
  const latency = new Map<string, number[]>();
  const push = (map: Map<string, number[]>, key: string, value: number) =>
    map.set(key, [...(map.get(key) ?? []), value]);

  // Memory first, in the steady state of 100 idle modules; again after the load below.
  const rssIdle = [];
  for (const broker of brokers) {
    rssIdle.push(await rssWithClients(broker, tuning.memoryDetail ?? false));
  }
  // Warm-up: JIT, connections, the store's first pages.
  for (const broker of brokers) {
    await runLoad(broker, { messages: 1_000, qos: 1, payloadBytes: SMALL });
  }
  for (let run = 0; run < runs; run++) {
    for (const variant of variants) {
      for (const broker of brokers) {
        const outcome = await runLoad(broker, variant);
        if (variant.qos === 1) checkComplete(broker, outcome, variant.key);
        push(throughput, `${broker.name}/${variant.key}`, outcome.perSecond);
        push(cpuCost, `${broker.name}/${variant.key}`, outcome.cpuMicrosPerMessage);
      }
    }
    await latencyRun(
      brokers,
      { seconds: latencySeconds, syncs: options.quick ? 100 : 500 },
      (key, value) => push(latency, key, value),
    );
  }
  const rssLoaded = [];
  for (const broker of brokers) {
    rssLoaded.push(await rssWithClients(broker, tuning.memoryDetail ?? false));
  }
  return { throughput, cpuCost, latency, rssIdle, rssLoaded };
}

/** A row of the broker group: `values` (and a reference) measured in `unit`. */
function row(
  name: string,
  unit: string,
  higherIsBetter: boolean,
  values: Pick<Figure, "values" | "reference">,
): Figure {
  return { group: GROUP, name, unit, higherIsBetter, ...values };
}

/** ledge's values under `key` in `map`, with mosquitto's beside them when it ran. */
function ledgeVersusMosquitto(
  map: Map<string, number[]>,
  key: string,
  withMosquitto: boolean,
): Pick<Figure, "values" | "reference"> {
  return {
    values: map.get(`ledge/${key}`) ?? [],
    ...(withMosquitto
      ? { reference: { name: "mosquitto", values: map.get(`mosquitto/${key}`) ?? [] } }
      : {}),
  };
}

/** The rows of the latency runs at 5,000 msg/s, and of the disk measured around them. */
function latencyFigures(latency: Map<string, number[]>, withMosquitto: boolean): Figure[] {
  const delay = (name: string, key: string) =>
    row(name, "ms", false, ledgeVersusMosquitto(latency, key, withMosquitto));
  const ledgeOnly = (name: string, key: string) =>
    row(name, "ms", false, { values: latency.get(key) ?? [] });
  const afterWarmup =
    `measured after ${LATENCY_WARMUP_SECONDS} s of the same load on the same connections`;
  return [
    delay(`latency p50 at 5,000 msg/s offered, QoS 1, 256 B (${afterWarmup})`, "p50"),
    delay(`latency p99 at 5,000 msg/s offered, QoS 1, 256 B (${afterWarmup})`, "p99"),
    delay(`latency max at 5,000 msg/s offered, QoS 1, 256 B (${afterWarmup})`, "max"),
    delay(
      "latency p99 of that warm-up second (new generator processes and connections; " +
        "not in the rows above)",
      "warmup-p99",
    ),
    {
      ...delay(
        "latency run: measured messages published 5 ms or more behind the 5,000 msg/s " +
          "schedule (a full window or a late generator; that wait is not in the latencies)",
        "behind",
      ),
      unit: "%",
    },
    delay(
      "latency p99 counted from each message's turn in the 5,000 msg/s schedule instead of " +
        "its publish (includes those waits)",
      "due-p99",
    ),
    {
      // Below saturation a commit carries a few messages, so its costs (the WAL's fdatasync, the
      // transaction) weigh per message far more than in the saturated rows above.
      ...delay(
        "broker CPU time per message at 5,000 msg/s offered, QoS 1, 256 B (the latency " +
          "run, its warm-up second included; user + system, all threads)",
        "rate-cost",
      ),
      unit: "µs CPU/msg",
    },
    ledgeOnly(
      "latency p99 minus the same run's disk fdatasync p99 (issue 13: at most 5 ms)",
      "ledge/over-disk-p99",
    ),
    ledgeOnly(
      "disk fdatasync p50, 4 KiB appends right before and after each latency run " +
        "(the floor under a durable PUBACK)",
      "disk/p50",
    ),
    ledgeOnly(
      "disk fdatasync p99, 4 KiB appends right before and after each latency run " +
        "(the floor under a durable PUBACK)",
      "disk/p99",
    ),
  ];
}

/** The broker bench's rows from `samples` (`withMosquitto`: mosquitto's beside ledge's). */
function brokerFigures(
  samples: BrokerSamples,
  startedRss: number[],
  withMosquitto: boolean,
): Figure[] {
  const { throughput, cpuCost, latency, rssIdle, rssLoaded } = samples;
  const versus = (map: Map<string, number[]>, key: string) =>
    ledgeVersusMosquitto(map, key, withMosquitto);
  const rate = (name: string, key: string) => row(name, "msg/s", true, versus(throughput, key));
  const cost = (name: string, key: string) => row(name, "µs CPU/msg", false, versus(cpuCost, key));
  // One reading each: a state, not a rate. ledge's process also runs the security manager
  // (two API sockets per module) and the agent with the 100 process modules.
  const memory = (name: string, [ours, theirs]: number[]) =>
    row(name, "MB", false, {
      values: [ours!],
      ...(theirs === undefined ? {} : { reference: { name: "mosquitto", values: [theirs] } }),
    });
  const setup = `${PAIRS} pairs, window ${WINDOW}, ${GENERATORS} load processes`;
  return [
    rate(`module→route→module QoS 1, 256 B (${setup})`, "qos1"),
    rate(`module→route→module QoS 0 in, QoS 1 out, 256 B (${setup})`, "qos0"),
    rate(`module→route→module QoS 1, 16 KiB (${setup})`, "large"),
    cost("broker CPU time per message, QoS 1, 256 B (user + system, all threads)", "qos1"),
    cost("broker CPU time per message, QoS 0 in, QoS 1 out, 256 B", "qos0"),
    cost("broker CPU time per message, QoS 1, 16 KiB", "large"),
    ...latencyFigures(latency, withMosquitto),
    memory(
      "RSS once started, no modules or clients",
      startedRss,
    ),
    memory(`RSS with ${MODULES} connected modules, before any load`, rssIdle),
    memory(`RSS with ${MODULES} connected modules, after the runs above`, rssLoaded),
  ];
}

export async function benchBroker(
  options: BenchOptions,
  tuning: BrokerBenchTuning = {},
): Promise<Figure[]> {
  const runs = tuning.runs ?? (options.quick ? 1 : 3);
  const messages = options.quick ? 2_500 : 15_000;
  const mosquitto = tuning.ledgeOnly ? undefined : await startMosquitto();
  let ledge: Broker | undefined;
  try {
    ledge = await startLedge({
      denoFlags: tuning.denoFlags ?? [`--v8-flags=${DAEMON_V8_FLAGS}`],
      bundle: tuning.bundle ?? false,
    });
    const brokers = mosquitto ? [ledge, mosquitto] : [ledge];
    const samples = await measureBrokers(brokers, options, tuning, runs, messages);
    const heads = await benchHeads(ledge, { runs, messages, window: WINDOW, pairs: PAIRS });
    const startedRss = brokers.map((broker) => broker.startedRssMb);
    return [...brokerFigures(samples, startedRss, mosquitto !== undefined), ...heads];
  } finally {
    await ledge?.stop();
    await mosquitto?.stop();
  }
}

const USAGE = `deno run -A bench/broker.ts [options] (needs mosquitto)
  --quick            one short run per figure (a smoke run, figures not meant to be quoted)
  --runs=N           runs per figure (default 3, 1 with --quick)
  --ledge-only       no mosquitto runs: for comparing ledge against itself
  --bundle           run ledge from the bundle, as installed, instead of main.ts
  --memory-detail    print where the RSS is at each RSS reading
  --deno-flags=…     deno run flags for ledge instead of the daemon's V8 flags (repeatable)
  --v8-defaults      run ledge with V8's default flags`;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      "deno-flags": { type: "string", multiple: true },
      "ledge-only": { type: "boolean", default: false },
      "memory-detail": { type: "boolean", default: false },
      bundle: { type: "boolean", default: false },
      "v8-defaults": { type: "boolean", default: false },
      runs: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const figures = await benchBroker({ quick: values.quick ?? false }, {
    ...(values["deno-flags"] || values["v8-defaults"]
      ? { denoFlags: values["deno-flags"] ?? [] }
      : {}),
    bundle: values.bundle ?? false,
    ledgeOnly: values["ledge-only"] ?? false,
    memoryDetail: values["memory-detail"] ?? false,
    ...(values.runs === undefined ? {} : { runs: Number(values.runs) }),
  });
  console.log(textTable(tableRows(figures)));
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
}
