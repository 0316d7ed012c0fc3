/**
 * The store benchmarks' measurements (bench/store.ts turns them into figures): enqueue and drain
 * rates, the enqueue + take + ack flow's CPU per message, raw `node:sqlite` inserts, bytes on
 * disk per message, a process's RSS with queued messages, and purge.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import process from "node:process";
import { setImmediate } from "node:timers";
import { currentDefaultsContext, defaultStateDir } from "../core/config.ts";
import { type EnqueueTarget, openMessageStore, type StoreOptions } from "../store/mod.ts";

export const RUNS = 3;
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
export async function benchDir(): Promise<{ path: string } & AsyncDisposable> {
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
export async function enqueueRate(
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
export function rawInsertRate(dir: string, total: number): number {
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
export async function drainRate(dir: string, total: number, reopen: boolean): Promise<number> {
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
export async function bytesPerMessage(
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
export async function memoryGrowth(dir: string, total: number): Promise<number[]> {
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
export async function purge(dir: string, total: number) {
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

export async function repeat(
  runs: number,
  measure: () => Promise<number> | number,
): Promise<number[]> {
  const values: number[] = [];
  for (let run = 0; run < runs; run++) values.push(await measure());
  return values;
}
