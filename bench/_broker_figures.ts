/**
 * The rows of the broker benchmark (bench/broker.ts) from what it measured: ledge's figures, with
 * mosquitto's beside them when it ran. Private to bench/.
 */
import type { Figure } from "./_figure.ts";
import { ONCE_QUIET } from "./_broker_memory.ts";

const GROUP = "broker";

/** How the load was set up, as the row names say it. */
export interface BrokerSetup {
  pairs: number;
  window: number;
  generators: number;
  /** Connected modules in the memory rows. */
  modules: number;
  /** Seconds of the same load before a latency run's measured window. */
  warmupSeconds: number;
}

export /** What the broker bench measured of each broker, keyed `<broker>/<variant>`. */
interface BrokerSamples {
  throughput: Map<string, number[]>;
  cpuCost: Map<string, number[]>;
  latency: Map<string, number[]>;
  /** One reading per broker, in `brokers` order: 1 s after the clients connected, and once quiet. */
  rssIdle: { soon: number; quiet: number }[];
  rssLoaded: { soon: number; quiet: number }[];
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

const soon = (reading: { soon: number }) => reading.soon;
const quiet = (reading: { quiet: number }) => reading.quiet;

/**
 * ledge's values under `key` in `map`, with mosquitto's beside them when it ran: measured in the
 * same rounds, one after the other (paired).
 */
function ledgeVersusMosquitto(
  map: Map<string, number[]>,
  key: string,
  withMosquitto: boolean,
): Pick<Figure, "values" | "reference"> {
  return {
    values: map.get(`ledge/${key}`) ?? [],
    ...(withMosquitto
      ? {
        reference: { name: "mosquitto", values: map.get(`mosquitto/${key}`) ?? [], paired: true },
      }
      : {}),
  };
}

/** The rows of the latency runs at 5,000 msg/s (with the disk's: {@linkcode diskFigures}). */
function latencyFigures(
  latency: Map<string, number[]>,
  withMosquitto: boolean,
  warmupSeconds: number,
): Figure[] {
  const delay = (name: string, key: string) =>
    row(name, "ms", false, ledgeVersusMosquitto(latency, key, withMosquitto));
  const afterWarmup =
    `publish to delivery, measured after ${warmupSeconds} s of the same load on the same connections`;
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
    // ledge delivers a message once committed and sends the PUBACK once the commit is synced;
    // mosquitto keeps no store, so its PUBACK waits for nothing.
    delay(
      "PUBACK latency p50 at 5,000 msg/s offered (publish to the sender's PUBACK, the same " +
        "run; ledge's waits for the fdatasync)",
      "ack-p50",
    ),
    delay(
      "PUBACK latency p99 at 5,000 msg/s offered (publish to the sender's PUBACK, the same " +
        "run; ledge's waits for the fdatasync)",
      "ack-p99",
    ),
    ...diskFigures(latency),
  ];
}

/**
 * ledge's rows against the disk measured around its latency runs: its latencies over the disk's
 * fdatasync p99, the disk's own syncs, and ledge's syncs during the runs.
 */
function diskFigures(latency: Map<string, number[]>): Figure[] {
  const ledgeOnly = (name: string, key: string) =>
    row(name, "ms", false, { values: latency.get(key) ?? [] });
  return [
    ledgeOnly(
      "latency p99 minus the same run's disk fdatasync p99 (issue 13: at most 5 ms)",
      "ledge/over-disk-p99",
    ),
    ledgeOnly(
      "PUBACK latency p99 minus the same run's disk fdatasync p99",
      "ledge/ack-over-disk-p99",
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
    // The same disk under the run's writes and CPU load: ledge's own syncs, from its histogram
    // (interpolated within a 1-2-5 bucket, as Prometheus's histogram_quantile does).
    ledgeOnly(
      "ledge's own store fdatasyncs during the latency run, p50 (its WAL's after each commit; " +
        "ledge_store_sync_duration_seconds, warm-up second included)",
      "ledge/store-sync-p50",
    ),
    ledgeOnly(
      "ledge's own store fdatasyncs during the latency run, p99 (the same histogram)",
      "ledge/store-sync-p99",
    ),
  ];
}

/** The broker bench's rows from `samples` (`withMosquitto`: mosquitto's beside ledge's). */
export function brokerFigures(
  samples: BrokerSamples,
  startedRss: number[],
  withMosquitto: boolean,
  setup: BrokerSetup,
): Figure[] {
  const { throughput, cpuCost, latency, rssIdle, rssLoaded } = samples;
  const versus = (map: Map<string, number[]>, key: string) =>
    ledgeVersusMosquitto(map, key, withMosquitto);
  const rate = (name: string, key: string) => row(name, "msg/s", true, versus(throughput, key));
  const cost = (name: string, key: string) => row(name, "µs CPU/msg", false, versus(cpuCost, key));
  // One reading each: a state, not a rate. ledge's process also runs the security manager
  // (two API sockets per module) and the agent with its process modules.
  const memory = (name: string, [ours, theirs]: number[]) =>
    row(name, "MB", false, {
      values: [ours!],
      ...(theirs === undefined ? {} : { reference: { name: "mosquitto", values: [theirs] } }),
    });
  const load = `${setup.pairs} pairs, window ${setup.window}, ${setup.generators} load processes`;
  return [
    rate(`module→route→module QoS 1, 256 B (${load})`, "qos1"),
    rate(`module→route→module QoS 0 in, QoS 1 out, 256 B (${load})`, "qos0"),
    rate(`module→route→module QoS 1, 16 KiB (${load})`, "large"),
    cost("broker CPU time per message, QoS 1, 256 B (user + system, all threads)", "qos1"),
    cost("broker CPU time per message, QoS 0 in, QoS 1 out, 256 B", "qos0"),
    cost("broker CPU time per message, QoS 1, 16 KiB", "large"),
    ...latencyFigures(latency, withMosquitto, setup.warmupSeconds),
    memory(
      "RSS once started, no modules or clients",
      startedRss,
    ),
    memory(`RSS with ${setup.modules} connected modules, before any load`, rssIdle.map(soon)),
    memory(
      `RSS with ${setup.modules} connected modules, before any load, ${ONCE_QUIET}`,
      rssIdle.map(quiet),
    ),
    memory(
      `RSS with ${setup.modules} connected modules, after the runs above`,
      rssLoaded.map(soon),
    ),
    memory(
      `RSS with ${setup.modules} connected modules, after the runs above, ${ONCE_QUIET}`,
      rssLoaded.map(quiet),
    ),
  ];
}
