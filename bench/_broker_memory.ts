/**
 * The broker bench's memory readings: RSS of a broker with `MODULES` idle clients connected, soon
 * after the connects and once quiet, and where that RSS is by kind of mapping. Also the bundle's
 * own group (`bundle-memory`): the same readings of ledge run from the bundle as the executable
 * runs it, without the load runs.
 */
import type { BenchOptions, Figure } from "./_figure.ts";
import type { LoadPlan } from "./_broker_load.ts";
import { spread, startGenerator } from "./_load_runner.ts";
import { type Broker, MODULES, startLedge } from "./_broker_start.ts";
import { rssMegabytes } from "./_proc.ts";
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";

/** Load processes the idle clients are spread over. */
export const GENERATORS = 2;

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

/**
 * How long after the clients connected the "once quiet" reading is taken: two looks of the
 * daemon's idle collector (daemon/idle_collector.ts, every 5 s), so a quiet period has ended
 * after the connects.
 */
const QUIET_READING_MS = 12_000;

/** How the "once quiet" readings are named in the rows. */
export const ONCE_QUIET = `once quiet (${QUIET_READING_MS / 1000} s later)`;

/**
 * RSS of `broker` with `MODULES` clients connected and subscribed: 1 s after they connected, and
 * again once quiet ({@linkcode QUIET_READING_MS} after).
 */
export async function rssWithClients(
  broker: Broker,
  detail: boolean,
): Promise<{ soon: number; quiet: number }> {
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
    const soon = rssMegabytes(broker.pid);
    await new Promise((resolve) => setTimeout(resolve, QUIET_READING_MS - 1000));
    return { soon, quiet: rssMegabytes(broker.pid) };
  } finally {
    await Promise.all(generators.map((generator) => generator.send("quit").catch(() => {})));
    await Promise.all(generators.map((generator) => generator.close()));
  }
}

/**
 * ledge from the bundle as the executable runs it (split, minified; code cache written by a first
 * start), with `MODULES` provisioned process modules: RSS once started, then with the modules'
 * clients connected, soon and once quiet. One run (as the broker group's readings).
 */
export async function benchBundleMemory(_options: BenchOptions): Promise<Figure[]> {
  const ledge = await startLedge({ denoFlags: [`--v8-flags=${DAEMON_V8_FLAGS}`], bundle: true });
  try {
    const { soon, quiet } = await rssWithClients(ledge, false);
    const row = (name: string, value: number): Figure => ({
      group: "bundle-memory",
      name: `the bundle as the executable runs it: ${name}`,
      unit: "MB",
      higherIsBetter: false,
      values: [value],
    });
    return [
      row("RSS once started, no modules or clients (1 s after ready)", ledge.startedRssMb),
      row(`RSS with ${MODULES} connected modules`, soon),
      row(`RSS with ${MODULES} connected modules, ${ONCE_QUIET}`, quiet),
    ];
  } finally {
    await ledge.stop();
  }
}
