/**
 * Leak check: the RSS of a real `ledge run` (the broker bench's setup: hub, security, agent with
 * 100 process modules, plain MQTT on loopback) before and after 1,000,000 routed QoS 1 messages
 * (256 B, module → route → module through the durable store, the broker bench's 4 pairs). Both
 * readings are taken after the process has been idle for a while (the daemon cannot be asked to
 * collect garbage: V8's memory reducer works on an idle process), "before" after a warm-up
 * (JIT, the store's first pages, the heap grown to its working size). Figure: the ratio after /
 * before (the target: within 10 %, issue 13), and both RSS values; the RSS after each tenth of
 * the run is printed to stderr to show the trend, and the last tenth's over the first's is a
 * figure (growth under load once the process reached its working size).
 *
 * Full mode only (it routes a million messages: minutes on the 2-core machine); `--quick` skips
 * it. Run alone: `deno run -A bench/leak.ts [--messages=N] [--settle=S]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { BenchOptions, Figure } from "./_figure.ts";
import { DAEMON_V8_FLAGS, runLoad } from "./broker.ts";
import { PAIRS, startLedge } from "./_broker_start.ts";
import { rssMegabytes } from "./_proc.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";

const GROUP = "leak";
const MESSAGES = 1_000_000;
const CHUNKS = 10;
const SETTLE_SECONDS = 15;

/** Knobs for a shorter run. */
export interface LeakTuning {
  /** Messages routed in all (default 1,000,000). */
  messages?: number;
  /** Idle seconds before each RSS reading (default 15). */
  settleSeconds?: number;
}

async function settledRss(pid: number, seconds: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return rssMegabytes(pid);
}

/** Routes `total` messages in `CHUNKS` loads, printing the RSS after each. */
async function routeMany(
  broker: Awaited<ReturnType<typeof startLedge>>,
  total: number,
): Promise<{ perSecond: number[]; cpuMicros: number[]; rss: number[] }> {
  const perPair = Math.ceil(total / CHUNKS / PAIRS);
  const perSecond: number[] = [];
  const cpuMicros: number[] = [];
  const rssAfterChunk: number[] = [];
  for (let chunk = 1; chunk <= CHUNKS; chunk++) {
    const outcome = await runLoad(broker, { messages: perPair, qos: 1, payloadBytes: 256 });
    if (outcome.received < outcome.expected) {
      throw new Error(`Cannot check for leaks: ${outcome.received} of ${outcome.expected} routed`);
    }
    perSecond.push(outcome.perSecond);
    cpuMicros.push(outcome.cpuMicrosPerMessage);
    const rss = rssMegabytes(broker.pid);
    rssAfterChunk.push(rss);
    console.error(
      `bench leak: ${chunk * perPair * PAIRS} routed, RSS ${rss.toFixed(1)} MB ` +
        `(${outcome.perSecond.toFixed(0)} msg/s, ${outcome.cpuMicrosPerMessage.toFixed(0)} µs/msg)`,
    );
  }
  return { perSecond, cpuMicros, rss: rssAfterChunk };
}

/** RSS before and after a million routed messages, and their ratio. */
export async function benchLeak(options: BenchOptions, tuning: LeakTuning = {}): Promise<Figure[]> {
  if (options.quick) {
    console.error("bench leak: skipped in --quick (a million routed messages)");
    return [];
  }
  const total = tuning.messages ?? MESSAGES;
  const settle = tuning.settleSeconds ?? SETTLE_SECONDS;
  const broker = await startLedge({ denoFlags: [`--v8-flags=${DAEMON_V8_FLAGS}`], bundle: false });
  try {
    await runLoad(broker, { messages: 5_000, qos: 1, payloadBytes: 256 });
    const before = await settledRss(broker.pid, settle);
    console.error(
      `bench leak: RSS after the warm-up and ${settle} s idle: ${before.toFixed(1)} MB`,
    );
    const { perSecond, cpuMicros, rss } = await routeMany(broker, total);
    const after = await settledRss(broker.pid, settle);
    console.error(`bench leak: RSS after ${total} and ${settle} s idle: ${after.toFixed(1)} MB`);
    const what = `${total.toLocaleString("en")} routed QoS 1 messages, 256 B, ${settle} s idle`;
    const mb = (name: string, value: number): Figure => ({
      group: GROUP,
      name,
      unit: "MB",
      higherIsBetter: false,
      values: [value],
    });
    const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1]!;
    return [
      mb(`RSS before ${what} (after a warm-up)`, before),
      mb(`RSS after ${what}`, after),
      {
        group: GROUP,
        name: `RSS after / before ${what} (no leak: ≤ 1.10)`,
        unit: "×",
        higherIsBetter: false,
        values: [after / before],
      },
      {
        // Growth while the load goes on, once the first tenth has grown the process to its
        // working size under load (which a short warm-up does not reach).
        group: GROUP,
        name: "RSS after the last tenth / after the first tenth of the run, under load",
        unit: "×",
        higherIsBetter: false,
        values: [rss[rss.length - 1]! / rss[0]!],
      },
      {
        group: GROUP,
        name: "throughput during the run (median of its tenths)",
        unit: "msg/s",
        higherIsBetter: true,
        values: [median(perSecond)],
      },
      {
        group: GROUP,
        name: "broker CPU time per message during the run (median of its tenths)",
        unit: "µs CPU/msg",
        higherIsBetter: false,
        values: [median(cpuMicros)],
      },
    ];
  } finally {
    await broker.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { messages: { type: "string" }, settle: { type: "string" } },
  });
  const figures = await benchLeak({ quick: false }, {
    ...(values.messages === undefined ? {} : { messages: Number(values.messages) }),
    ...(values.settle === undefined ? {} : { settleSeconds: Number(values.settle) }),
  });
  console.log(textTable(tableRows(figures)));
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
}
