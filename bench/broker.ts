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
 *   Beside them, ledge's own syncs during the run (its `ledge_store_sync_duration_seconds`
 *   histogram, read through the management API before and after): the same disk under the run's
 *   writes, with the generator competing for the CPUs.
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
import type { BenchOptions, Figure } from "./_figure.ts";
import type { LoadPlan } from "./_broker_load.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";
import { histogramDifference, histogramQuantile } from "../core/histogram.ts";
import { benchHeads } from "./broker_heads.ts";
import { brokerFigures, type BrokerSamples } from "./_broker_figures.ts";
import { type LoadOutcome, measure, spread, startGenerator } from "./_load_runner.ts";
import { type Broker, MODULES, PAIRS, startLedge, startMosquitto } from "./_broker_start.ts";
import { GENERATORS, rssWithClients } from "./_broker_memory.ts";

const WINDOW = 20;
const RATE_PER_SECOND = 5_000;
const SMALL = 256;
const LARGE = 16 * 1024;

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
 * Pushes `<broker>/p50|p99|max|warmup-p99|behind|due-p99`, `disk/p50|p99`, `ledge/over-disk-p99`
 * and `ledge/store-sync-p50|p99` (its own WAL and body log syncs during the run) into `latency`.
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
    const syncsBefore = await broker.syncSeconds?.();
    const outcome = await runLoad(broker, {
      messages: (RATE_PER_SECOND / PAIRS) * options.seconds,
      qos: 1,
      payloadBytes: SMALL,
      ratePerSecond: RATE_PER_SECOND,
      warmupSeconds: LATENCY_WARMUP_SECONDS,
    });
    const syncsAfter = await broker.syncSeconds?.();
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
    const acks = outcome.ackLatenciesMs.toSorted((x, y) => x - y);
    push(`${broker.name}/ack-p50`, percentile(acks, 50));
    push(`${broker.name}/ack-p99`, percentile(acks, 99));
    if (!ledge) continue;
    disk.sort((a, b) => a - b);
    push("disk/p50", percentile(disk, 50));
    push("disk/p99", percentile(disk, 99));
    push("ledge/over-disk-p99", percentile(sorted, 99) - percentile(disk, 99));
    push("ledge/ack-over-disk-p99", percentile(acks, 99) - percentile(disk, 99));
    if (syncsBefore === undefined || syncsAfter === undefined) continue;
    const syncs = histogramDifference(syncsAfter, syncsBefore);
    push("ledge/store-sync-p50", histogramQuantile(syncs, 0.5) * 1000);
    push("ledge/store-sync-p99", histogramQuantile(syncs, 0.99) * 1000);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
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
    // Each broker goes first in every other run: the one measured second had its own bias (the
    // generator warm, the machine in another phase), which alternating spreads over both.
    const order = run % 2 === 0 ? brokers : brokers.toReversed();
    for (const variant of variants) {
      for (const broker of order) {
        const outcome = await runLoad(broker, variant);
        if (variant.qos === 1) checkComplete(broker, outcome, variant.key);
        push(throughput, `${broker.name}/${variant.key}`, outcome.perSecond);
        push(cpuCost, `${broker.name}/${variant.key}`, outcome.cpuMicrosPerMessage);
      }
    }
    await latencyRun(
      order,
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

/**
 * Measures ledge's hub against mosquitto: QoS 1 module→route→module throughput (256 B, and
 * QoS 0 and 16 KiB variants), latency at 5,000 msg/s, and RSS with 100 connected modules.
 * Five runs per figure, ledge and mosquitto taking turns to go first (one in `quick`, which
 * finishes in about half a minute): this VM's run-to-run spread made the median of three move by
 * a fifth between full runs of the same code.
 */
export async function benchBroker(
  options: BenchOptions,
  tuning: BrokerBenchTuning = {},
): Promise<Figure[]> {
  const runs = tuning.runs ?? (options.quick ? 1 : 5);
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
    const setup = {
      pairs: PAIRS,
      window: WINDOW,
      generators: GENERATORS,
      modules: MODULES,
      warmupSeconds: LATENCY_WARMUP_SECONDS,
    };
    return [...brokerFigures(samples, startedRss, mosquitto !== undefined, setup), ...heads];
  } finally {
    await ledge?.stop();
    await mosquitto?.stop();
  }
}

const USAGE = `deno run -A bench/broker.ts [options] (needs mosquitto)
  --quick            one short run per figure (a smoke run, figures not meant to be quoted)
  --runs=N           runs per figure (default 5, 1 with --quick)
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
