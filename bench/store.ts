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
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import process from "node:process";
import { setImmediate } from "node:timers";
import { currentDefaultsContext, defaultStateDir } from "../core/config.ts";
import { type EnqueueTarget, openMessageStore, type StoreOptions } from "../store/mod.ts";
import type { BenchOptions, Figure } from "./_figure.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";

const GROUP = "store";
const RUNS = 3;
const BODY = new Uint8Array(200).fill(0x41);
const UPSTREAM: EnqueueTarget[] = [{ endpoint: "upstream", priority: 0, ttlSeconds: -1 }];
const MiB = 1024 * 1024;

function telemetry(n: number, body: Uint8Array = BODY) {
  return {
    body,
    appProperties: { temperatureAlert: n % 10 === 0 ? "true" : "false" },
    systemProperties: {
      messageId: `msg-${n}`,
      connectionDeviceId: "bench-device",
      connectionModuleId: "sensor",
      contentType: "application/json",
    },
  };
}

/** A temp dir next to the state dir (on the same file system), removed by the disposer. */
async function benchDir(): Promise<{ path: string } & AsyncDisposable> {
  let parent = defaultStateDir(currentDefaultsContext());
  for (;;) {
    try {
      if ((await Deno.stat(parent)).isDirectory) break;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const up = dirname(parent);
    if (up === parent) break;
    parent = up;
  }
  const path = await Deno.makeTempDir({ dir: parent, prefix: "ledge-bench-store-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const baseOptions = { maxSizeBytes: 4 * 1024 * MiB, purgeIntervalMs: 0 };

/** Messages/s of `producers` closed-loop producers (each awaits its enqueue, then sends again). */
async function enqueueRate(
  dir: string,
  producers: number,
  total: number,
  options: Partial<StoreOptions> = {},
): Promise<number> {
  const path = `${dir}/enqueue-${crypto.randomUUID()}.db`;
  const store = openMessageStore(path, { ...baseOptions, ...options });
  let next = 0;
  const begun = performance.now();
  await Promise.all(Array.from({ length: producers }, async () => {
    while (next < total) await store.enqueue(telemetry(next++), UPSTREAM);
  }));
  const seconds = (performance.now() - begun) / 1000;
  await store.close();
  return total / seconds;
}

/**
 * CPU time (user + system, every thread of the process) per message of a steady flow as the hub
 * runs it: `producers` closed-loop producers enqueue (each awaits its durable commit), a consumer
 * takes what is committed and acks each message on its own, as a PUBACK would. Bodies of `body`
 * (200 B unless given), in a store opened with `options`.
 */
export async function flowCpuPerMessage(
  dir: string,
  producers: number,
  total: number,
  flow: { body?: Uint8Array; options?: Partial<StoreOptions> } = {},
): Promise<{ cpuMicros: number; perSecond: number }> {
  const path = `${dir}/flow-${crypto.randomUUID()}.db`;
  const store = openMessageStore(path, { ...baseOptions, ...flow.options });
  let consumed = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => done = resolve);
  let scheduled = false;
  const consume = () => {
    scheduled = false;
    for (;;) {
      const batch = store.take("upstream", 100);
      for (const queued of batch) store.ack("upstream", [queued.seq]);
      consumed += batch.length;
      if (batch.length < 100) break;
    }
    if (consumed >= total) done();
  };
  store.onEnqueued("upstream", () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(consume);
  });
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const begun = performance.now();
  await Promise.all(Array.from({ length: producers }, async () => {
    while (next < total) await store.enqueue(telemetry(next++, flow.body), UPSTREAM);
  }));
  await finished;
  await store.close(); // the last acks' commit is part of the work
  const seconds = (performance.now() - begun) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuMicros: (cpu.user + cpu.system) / total, perSecond: total / seconds };
}

/** Rows/s of plain inserts into a WAL, synchronous=FULL database in one transaction. */
function rawInsertRate(dir: string, total: number): number {
  const db = new DatabaseSync(`${dir}/raw-${crypto.randomUUID()}.db`);
  try {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL");
    db.exec("CREATE TABLE messages(seq INTEGER PRIMARY KEY, properties TEXT, body BLOB)");
    const insert = db.prepare("INSERT INTO messages(seq, properties, body) VALUES (?, ?, ?)");
    const begun = performance.now();
    db.exec("BEGIN");
    for (let n = 0; n < total; n++) {
      const message = telemetry(n);
      insert.run(n, JSON.stringify([message.appProperties, message.systemProperties]), BODY);
    }
    db.exec("COMMIT");
    return total / ((performance.now() - begun) / 1000);
  } finally {
    db.close();
  }
}

async function fill(store: ReturnType<typeof openMessageStore>, total: number, targets = UPSTREAM) {
  for (let start = 0; start < total; start += 5000) {
    const count = Math.min(5000, total - start);
    await Promise.all(
      Array.from({ length: count }, (_, i) => store.enqueue(telemetry(start + i), targets)),
    );
  }
}

/**
 * Messages/s taken and acked 100 at a time (one loop turn per batch, as a consumer would). With
 * `reopen` the backlog is read from the file, as after a restart or a long offline spell;
 * without, the last messages committed are still in memory (up to the store's budget).
 */
async function drainRate(dir: string, total: number, reopen: boolean): Promise<number> {
  const path = `${dir}/drain-${crypto.randomUUID()}.db`;
  let store = openMessageStore(path, baseOptions);
  await fill(store, total);
  if (reopen) {
    await store.close();
    store = openMessageStore(path, baseOptions);
  }
  const begun = performance.now();
  let drained = 0;
  for (;;) {
    const batch = store.take("upstream", 100);
    if (batch.length === 0) break;
    store.ack("upstream", batch.map((m) => m.seq));
    drained += batch.length;
    await nextTurn();
  }
  await store.close(); // the last acks' commit is part of the work
  if (drained !== total) throw new Error(`Cannot bench drain: drained ${drained} of ${total}`);
  return total / ((performance.now() - begun) / 1000);
}

/** File bytes per message once checkpointed (close merges the WAL into the file). */
async function bytesPerMessage(
  dir: string,
  total: number,
  endpoints: number,
  storedPerEndpoint: boolean,
): Promise<number> {
  const path = `${dir}/bytes-${crypto.randomUUID()}.db`;
  const store = openMessageStore(path, baseOptions);
  const targets = Array.from(
    { length: endpoints },
    (_, i): EnqueueTarget => ({
      endpoint: `module/m${i}/inputs/in`,
      priority: 0,
      ttlSeconds: 7200,
    }),
  );
  if (storedPerEndpoint) {
    for (const target of targets) await fill(store, total, [target]);
  } else {
    await fill(store, total, targets);
  }
  await store.close();
  return (await Deno.stat(path)).size / total;
}

const MEASURE_SCRIPT = `
const { openMessageStore } = await import(Deno.args[0]);
const rss = () => { globalThis.gc(); globalThis.gc(); return Deno.memoryUsage().rss; };
const store = openMessageStore(Deno.args[1], { maxSizeBytes: 2 ** 40, purgeIntervalMs: 0 });
const taken = store.take("upstream", 100);
store.release("upstream", taken.map((m) => m.seq));
const stats = store.stats();
console.log(JSON.stringify({ rss: rss(), count: stats[0]?.count ?? 0 }));
await store.close();
`;

/** RSS (bytes) of a fresh process that opened the store at `path` and took from it. */
async function openedRss(path: string): Promise<{ rss: number; count: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--v8-flags=--expose-gc",
      MEASURE_SCRIPT,
      new URL("../store/mod.ts", import.meta.url).href,
      path,
    ],
    stdout: "piped",
    stderr: "piped",
  });
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(`Cannot measure RSS: ${new TextDecoder().decode(stderr).trim()}`);
  }
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** MB of RSS a process holding `total` queued messages uses beyond one holding an empty store. */
async function memoryGrowth(dir: string, total: number): Promise<number[]> {
  const emptyPath = `${dir}/memory-empty.db`;
  const fullPath = `${dir}/memory-full.db`;
  await openMessageStore(emptyPath, baseOptions).close();
  const store = openMessageStore(fullPath, baseOptions);
  await fill(store, total);
  await store.close();
  const growth: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const empty = await openedRss(emptyPath);
    const full = await openedRss(fullPath);
    if (full.count !== total) throw new Error(`Cannot bench memory: ${full.count} queued`);
    growth.push((full.rss - empty.rss) / MiB);
  }
  return growth;
}

/** Purge of `total` expired messages: rate, and the file size before and after. */
async function purge(dir: string, total: number) {
  const path = `${dir}/purge-${crypto.randomUUID()}.db`;
  let now = Date.now();
  const store = openMessageStore(path, { ...baseOptions, now: () => now });
  await fill(store, total, [{ endpoint: "upstream", priority: 0, ttlSeconds: 60 }]);
  const fileBytes = () => {
    let bytes = Deno.statSync(path).size;
    try {
      bytes += Deno.statSync(`${path}-wal`).size;
    } catch { /* no WAL */ }
    return bytes;
  };
  const before = fileBytes();
  now += 61_000;
  const begun = performance.now();
  const purged = store.purgeExpired();
  const seconds = (performance.now() - begun) / 1000;
  const after = fileBytes();
  await store.close();
  if (purged !== total) throw new Error(`Cannot bench purge: purged ${purged} of ${total}`);
  return { rate: total / seconds, beforeMB: before / MiB, afterMB: after / MiB };
}

async function repeat(runs: number, measure: () => Promise<number> | number): Promise<number[]> {
  const values: number[] = [];
  for (let run = 0; run < runs; run++) values.push(await measure());
  return values;
}

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
  const figures: Figure[] = [];
  const group = (n: number) => repeat(RUNS, () => enqueueRate(dir.path, n, count(100_000)));

  const flows = [];
  for (let run = 0; run < RUNS; run++) {
    flows.push(await flowCpuPerMessage(dir.path, 100, count(100_000)));
  }
  figures.push({
    group: GROUP,
    name: "CPU per message: enqueue (100 producers, synchronous=FULL) + take + ack each, 200 B",
    unit: "µs CPU/msg",
    values: flows.map((flow) => flow.cpuMicros),
    higherIsBetter: false,
  });
  figures.push({
    group: GROUP,
    name: "the same flow: enqueue + take + ack each, 100 producers",
    unit: "msgs/s",
    values: flows.map((flow) => flow.perSecond),
    higherIsBetter: true,
  });
  figures.push(await largeBodyFlow(dir.path, count(20_000)));
  const grouped100 = await group(100);
  figures.push({
    group: GROUP,
    name: "enqueue, group commit, 100 concurrent producers, 200 B body, synchronous=FULL",
    unit: "msgs/s",
    values: grouped100,
    higherIsBetter: true,
    reference: {
      name: "raw node:sqlite inserts, one transaction, WAL, synchronous=FULL",
      values: await repeat(RUNS, () => rawInsertRate(dir.path, count(100_000))),
    },
  });
  figures.push({
    group: GROUP,
    name: "enqueue, one transaction + fsync per message (maxBatchMessages 1), 100 producers",
    unit: "msgs/s",
    values: await repeat(
      RUNS,
      () => enqueueRate(dir.path, 100, count(5_000), { maxBatchMessages: 1 }),
    ),
    higherIsBetter: true,
    reference: { name: "group commit, 100 producers", values: grouped100 },
  });
  figures.push({
    group: GROUP,
    name: "enqueue, group commit, 1 producer (one fsync per enqueue: latency bound)",
    unit: "msgs/s",
    values: await repeat(RUNS, () => enqueueRate(dir.path, 1, count(5_000))),
    higherIsBetter: true,
  });
  figures.push({
    group: GROUP,
    name: "enqueue, 10 producers, commitWindowMs 1",
    unit: "msgs/s",
    values: await repeat(
      RUNS,
      () => enqueueRate(dir.path, 10, count(20_000), { commitWindowMs: 1 }),
    ),
    higherIsBetter: true,
    reference: {
      name: "commitWindowMs 0 (commit at the next loop turn, the default)",
      values: await repeat(RUNS, () => enqueueRate(dir.path, 10, count(20_000))),
    },
  });
  figures.push({
    group: GROUP,
    name:
      "drain of a backlog read from the file (reopened): take 100 + ack, one loop turn per batch",
    unit: "msgs/s",
    values: await repeat(RUNS, () => drainRate(dir.path, count(100_000), true)),
    higherIsBetter: true,
  });
  figures.push({
    group: GROUP,
    name: "drain of messages just committed (1,000, within the store's memory budget)",
    unit: "msgs/s",
    values: await repeat(RUNS, () => drainRate(dir.path, 1_000, false)),
    higherIsBetter: true,
  });
  figures.push({
    group: GROUP,
    name: "file bytes per message, 1 endpoint, 200 B body + ~150 B properties",
    unit: "B/msg",
    values: await repeat(RUNS, () => bytesPerMessage(dir.path, count(20_000), 1, false)),
    higherIsBetter: false,
  });
  figures.push({
    group: GROUP,
    name: "file bytes per message routed to 3 endpoints (body stored once)",
    unit: "B/msg",
    values: await repeat(RUNS, () => bytesPerMessage(dir.path, count(20_000), 3, false)),
    higherIsBetter: false,
    reference: {
      name: "the same message stored once per endpoint",
      values: await repeat(RUNS, () => bytesPerMessage(dir.path, count(20_000), 3, true)),
    },
  });
  const queued = options.quick ? 50_000 : 1_000_000;
  figures.push({
    group: GROUP,
    name: `RSS of a process holding ${queued.toLocaleString("en-US")} queued messages, ` +
      "beyond an empty store",
    unit: "MB",
    values: await memoryGrowth(dir.path, queued),
    higherIsBetter: false,
  });
  const purges = [];
  for (let run = 0; run < RUNS; run++) purges.push(await purge(dir.path, count(100_000)));
  figures.push({
    group: GROUP,
    name: "purge of expired messages (delete, incremental vacuum, checkpoint)",
    unit: "msgs/s",
    values: purges.map((p) => p.rate),
    higherIsBetter: true,
  });
  figures.push({
    group: GROUP,
    name: `store file after purging all ${count(100_000).toLocaleString("en-US")} expired messages`,
    unit: "MB",
    values: purges.map((p) => p.afterMB),
    higherIsBetter: false,
    reference: { name: "before the purge", values: purges.map((p) => p.beforeMB) },
  });
  return figures;
}

if (import.meta.main) {
  const figures = await benchStore({ quick: Deno.args.includes("--quick") });
  console.log(textTable(tableRows(figures)));
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
}
