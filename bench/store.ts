/**
 * Benchmarks of the durable message store (store/): enqueue rate with group commit against
 * one commit per message and against raw `node:sqlite` inserts, drain rate, bytes on disk per
 * message, memory with a million queued messages, and purge. Files go to a temp dir on the disk
 * that holds the state dir, since fsync cost is a property of that disk.
 *
 * Run alone: `deno run -A bench/store.ts [--quick]`.
 *
 * @module
 */
import type { BenchOptions, Figure } from "./_figure.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";
import {
  benchDir,
  bytesPerMessage,
  drainRate,
  enqueueRate,
  flowCpuPerMessage,
  memoryGrowth,
  purge,
  rawInsertRate,
  repeat,
  RUNS,
} from "./_store_measures.ts";

const GROUP = "store";

/**
 * The 200 B flow with 16 KiB bodies, which go to the body log, against the same flow with the
 * bodies in the database's pages (a store kept in the previous format), runs alternated.
 */
async function largeBodyFlow(dir: string, total: number): Promise<Figure> {
  const body = new Uint8Array(16 * 1024).fill(0x42);
  const logged: number[] = [];
  const inline: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    logged.push((await flowCpuPerMessage(dir, 100, total, { body })).cpuMicros);
    const options = { compatibleFormat: true };
    inline.push((await flowCpuPerMessage(dir, 100, total, { body, options })).cpuMicros);
  }
  return {
    group: GROUP,
    name: "CPU per message: the same flow with 16 KiB bodies (in the body log)",
    unit: "µs CPU/msg",
    values: logged,
    higherIsBetter: false,
    reference: {
      name: "16 KiB bodies in the database's pages (the previous format)",
      values: inline,
    },
  };
}

/**
 * Measures the store; `quick` keeps it to a few seconds.
 *
 * @example
 * ```ts
 * const figures = await benchStore({ quick: true });
 * ```
 */
export async function benchStore(options: BenchOptions): Promise<Figure[]> {
  const scale = options.quick ? 0.05 : 1;
  const count = (n: number) => Math.max(1000, Math.round(n * scale));
  await using dir = await benchDir();
  return [
    ...await flowFigures(dir.path, count),
    ...await enqueueFigures(dir.path, count),
    ...await drainFigures(dir.path, count),
    ...await diskFigures(dir.path, count),
    await memoryFigure(dir.path, options.quick ? 50_000 : 1_000_000),
    ...await purgeFigures(dir.path, count),
  ];
}

/** Scales a full run's message count down for a quick one. */
type Count = (n: number) => number;

/** The enqueue + take + ack flow as the hub runs it: CPU per message and rate, 200 B and 16 KiB. */
async function flowFigures(dir: string, count: Count): Promise<Figure[]> {
  const flows = [];
  for (let run = 0; run < RUNS; run++) {
    flows.push(await flowCpuPerMessage(dir, 100, count(100_000)));
  }
  return [
    {
      group: GROUP,
      name: "CPU per message: enqueue (100 producers, synchronous=FULL) + take + ack each, 200 B",
      unit: "µs CPU/msg",
      values: flows.map((flow) => flow.cpuMicros),
      higherIsBetter: false,
    },
    {
      group: GROUP,
      name: "the same flow: enqueue + take + ack each, 100 producers",
      unit: "msgs/s",
      values: flows.map((flow) => flow.perSecond),
      higherIsBetter: true,
    },
    await largeBodyFlow(dir, count(20_000)),
  ];
}

/** Enqueue rates: group commit against raw inserts, a commit per message, 1 producer, a window. */
async function enqueueFigures(dir: string, count: Count): Promise<Figure[]> {
  const grouped100 = await repeat(RUNS, () => enqueueRate(dir, 100, count(100_000)));
  return [
    {
      group: GROUP,
      name: "enqueue, group commit, 100 concurrent producers, 200 B body, synchronous=FULL",
      unit: "msgs/s",
      values: grouped100,
      higherIsBetter: true,
      reference: {
        name: "raw node:sqlite inserts, one transaction, WAL, synchronous=FULL",
        values: await repeat(RUNS, () => rawInsertRate(dir, count(100_000))),
      },
    },
    {
      group: GROUP,
      name: "enqueue, one transaction + fsync per message (maxBatchMessages 1), 100 producers",
      unit: "msgs/s",
      values: await repeat(
        RUNS,
        () => enqueueRate(dir, 100, count(5_000), { maxBatchMessages: 1 }),
      ),
      higherIsBetter: true,
      reference: { name: "group commit, 100 producers", values: grouped100 },
    },
    {
      group: GROUP,
      name: "enqueue, group commit, 1 producer (one fsync per enqueue: latency bound)",
      unit: "msgs/s",
      values: await repeat(RUNS, () => enqueueRate(dir, 1, count(5_000))),
      higherIsBetter: true,
    },
    {
      group: GROUP,
      name: "enqueue, 10 producers, commitWindowMs 1",
      unit: "msgs/s",
      values: await repeat(RUNS, () => enqueueRate(dir, 10, count(20_000), { commitWindowMs: 1 })),
      higherIsBetter: true,
      reference: {
        name: "commitWindowMs 0 (commit at the next loop turn, the default)",
        values: await repeat(RUNS, () => enqueueRate(dir, 10, count(20_000))),
      },
    },
  ];
}

/** Drain rates: a backlog read from the file, and messages just committed (in memory). */
async function drainFigures(dir: string, count: Count): Promise<Figure[]> {
  return [
    {
      group: GROUP,
      name:
        "drain of a backlog read from the file (reopened): take 100 + ack, one loop turn per batch",
      unit: "msgs/s",
      values: await repeat(RUNS, () => drainRate(dir, count(100_000), true)),
      higherIsBetter: true,
    },
    {
      group: GROUP,
      name: "drain of messages just committed (1,000, within the store's memory budget)",
      unit: "msgs/s",
      values: await repeat(RUNS, () => drainRate(dir, 1_000, false)),
      higherIsBetter: true,
    },
  ];
}

/** File bytes per message, to one endpoint and to three (the body stored once). */
async function diskFigures(dir: string, count: Count): Promise<Figure[]> {
  return [
    {
      group: GROUP,
      name: "file bytes per message, 1 endpoint, 200 B body + ~150 B properties",
      unit: "B/msg",
      values: await repeat(RUNS, () => bytesPerMessage(dir, count(20_000), 1, false)),
      higherIsBetter: false,
    },
    {
      group: GROUP,
      name: "file bytes per message routed to 3 endpoints (body stored once)",
      unit: "B/msg",
      values: await repeat(RUNS, () => bytesPerMessage(dir, count(20_000), 3, false)),
      higherIsBetter: false,
      reference: {
        name: "the same message stored once per endpoint",
        values: await repeat(RUNS, () => bytesPerMessage(dir, count(20_000), 3, true)),
      },
    },
  ];
}

/** RSS a process gains holding `queued` messages. */
async function memoryFigure(dir: string, queued: number): Promise<Figure> {
  return {
    group: GROUP,
    name: `RSS of a process holding ${queued.toLocaleString("en-US")} queued messages, ` +
      "beyond an empty store",
    unit: "MB",
    values: await memoryGrowth(dir, queued),
    higherIsBetter: false,
  };
}

/** The purge of expired messages: its rate, and the file left after it. */
async function purgeFigures(dir: string, count: Count): Promise<Figure[]> {
  const purges = [];
  for (let run = 0; run < RUNS; run++) purges.push(await purge(dir, count(100_000)));
  return [
    {
      group: GROUP,
      name: "purge of expired messages (delete, incremental vacuum, checkpoint)",
      unit: "msgs/s",
      values: purges.map((p) => p.rate),
      higherIsBetter: true,
    },
    {
      group: GROUP,
      name: `store file after purging all ${
        count(100_000).toLocaleString("en-US")
      } expired messages`,
      unit: "MB",
      values: purges.map((p) => p.afterMB),
      higherIsBetter: false,
      reference: { name: "before the purge", values: purges.map((p) => p.beforeMB) },
    },
  ];
}

if (import.meta.main) {
  const figures = await benchStore({ quick: Deno.args.includes("--quick") });
  console.log(textTable(tableRows(figures)));
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
}
