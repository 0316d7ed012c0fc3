/**
 * Footprint: time from process start to ready, RSS and CPU at idle (no modules), the RSS after
 * each component's start (from the daemon's own debug log), the same start and idle RSS of the
 * bundle the release executable runs and the bundle's size, and the release executable's size and
 * first and later start times, with mosquitto's start-up time and idle RSS as the reference. ledge
 * runs from main.ts with the daemon's V8 flags, as the binary and the bundle run.
 *
 * Runnable alone: `deno run -A bench/footprint.ts [--quick]`.
 */
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";
import { type LedgeProcess, startLedge, type StartLedgeOptions } from "../tests/_ledge.ts";
import { freePort } from "../tests/_services.ts";
import type { BenchOptions, Figure } from "./_figure.ts";
import { benchReleaseFootprint } from "./footprint_release.ts";
import { bundleUnderTest } from "./footprint_bundle.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";
import { cpuSeconds, rssMegabytes } from "./_proc.ts";

async function idleCpuPercent(pid: number, seconds: number): Promise<number> {
  const before = cpuSeconds(pid);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return ((cpuSeconds(pid) - before) / seconds) * 100;
}

function mosquittoBinary(): string | undefined {
  for (const path of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]) {
    try {
      Deno.statSync(path);
      return path;
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * RSS (MB) of an empty script under this Deno with the daemon's V8 flags, 3 s after it started:
 * the runtime's own floor, which every figure of ledge's includes.
 */
async function emptyDenoRss(): Promise<number> {
  const script = await Deno.makeTempFile({ prefix: "ledge-bench-empty-", suffix: ".js" });
  await Deno.writeTextFile(script, "setTimeout(() => {}, 60_000);\n");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "-A", `--v8-flags=${DAEMON_V8_FLAGS}`, script],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return rssMegabytes(child.pid);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(script);
  }
}

/** Starts mosquitto and resolves with the ms until it accepts a TCP connection and its RSS. */
async function mosquittoStart(binary: string): Promise<{ readyMs: number; rssMb: number }> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "ledge-bench-mosq-" });
  await Deno.writeTextFile(`${dir}/m.conf`, `listener ${port} 127.0.0.1\nallow_anonymous true\n`);
  const begun = performance.now();
  const child = new Deno.Command(binary, {
    args: ["-c", `${dir}/m.conf`],
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  try {
    for (;;) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    const readyMs = performance.now() - begun;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return { readyMs, rssMb: rssMegabytes(child.pid) };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

/** RSS (MB) after each component started, by component, from the daemon's debug log. */
function rssByStep(ledge: LedgeProcess): Map<string, number> {
  const steps = new Map<string, number>();
  for (const line of ledge.logs) {
    try {
      const record = JSON.parse(line) as { message?: string; rssMb?: number };
      const step = record.message === "modules loaded"
        ? "the code"
        : /^(\S+) started$/.exec(record.message ?? "")?.[1];
      if (step && typeof record.rssMb === "number") steps.set(step, record.rssMb);
    } catch { /* not a JSON record */ }
  }
  return steps;
}

// engine "none": the figure is ledge itself, not the engine's answer times.
const IDLE_CONFIG = '[agent]\nengine = "none"\n';

/**
 * Per run: start → ready; RSS 1 s after ready; then, once the daemon's idle collection ran
 * (daemon/idle_collector.ts: the first quiet 5 s after start-up), its pause in ms, the CPU over the
 * idle seconds after it, and RSS; and RSS by start-up step.
 */
interface IdleFigures {
  ready: number[];
  rssSoon: number[];
  rss: number[];
  collectionMs: number[];
  cpu: number[];
  steps: Map<string, number[]>;
}

/** Waits for ledge's idle collection after start-up; returns its pause (wall ms, main thread). */
async function idleCollection(ledge: LedgeProcess): Promise<number> {
  const line = await ledge.waitForLog(/collected the heap at idle/, 60_000);
  return (JSON.parse(line) as { ms: number }).ms;
}

/** `runs` idle starts of ledge as `start` says, each stopped and its files removed. */
async function idleRuns(
  start: StartLedgeOptions,
  runs: number,
  idleSeconds: number,
): Promise<IdleFigures> {
  const figures: IdleFigures = {
    ready: [],
    rssSoon: [],
    rss: [],
    collectionMs: [],
    cpu: [],
    steps: new Map(),
  };
  for (let run = 0; run < runs; run++) {
    const begun = performance.now();
    const ledge = await startLedge({ ...start, extraConfig: IDLE_CONFIG });
    try {
      figures.ready.push(performance.now() - begun);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      figures.rssSoon.push(rssMegabytes(ledge.child.pid));
      figures.collectionMs.push(await idleCollection(ledge));
      figures.cpu.push(await idleCpuPercent(ledge.child.pid, idleSeconds));
      figures.rss.push(rssMegabytes(ledge.child.pid));
      for (const [step, mb] of rssByStep(ledge)) {
        figures.steps.set(step, [...figures.steps.get(step) ?? [], mb]);
      }
    } finally {
      await ledge.stop();
      await Deno.remove(ledge.stateDir, { recursive: true });
      await Deno.remove(ledge.configPath);
    }
  }
  return figures;
}

/** The bundle's rows: start → ready and idle RSS as the executable runs it, and its size. */
async function bundleFigures(runs: number, idleSeconds: number): Promise<Figure[]> {
  const bundle = await bundleUnderTest();
  try {
    const { ready, rssSoon, rss } = await idleRuns(bundle.start, runs, idleSeconds);
    const name = "bundle dist/ledge as the executable runs it (no code cache)";
    const figure = (what: string, unit: string, values: number[]): Figure => ({
      group: "footprint",
      name: `${name}: ${what}`,
      unit,
      higherIsBetter: false,
      values,
    });
    return [
      figure("process start → ready", "ms", ready),
      figure("RSS 1 s after ready, no modules", "MB", rssSoon),
      figure("RSS idle, no modules (after the idle collection)", "MB", rss),
      {
        group: "footprint",
        name: "dist/ledge (deno bundle: split, minified, npm packages inlined), all files",
        unit: "KB",
        higherIsBetter: false,
        values: [bundle.kilobytes],
      },
    ];
  } finally {
    await bundle.remove();
  }
}

/** Measures start-up, idle RSS and CPU, from source and from the bundle, and the bundle's size. */
export async function benchFootprint(options: BenchOptions): Promise<Figure[]> {
  const runs = options.quick ? 1 : 3;
  const idleSeconds = options.quick ? 2 : 10;
  const { ready, rssSoon, rss, collectionMs, cpu, steps } = await idleRuns(
    { denoFlags: [`--v8-flags=${DAEMON_V8_FLAGS}`] },
    runs,
    idleSeconds,
  );
  const mosquitto = mosquittoBinary();
  const reference = { ready: [] as number[], rss: [] as number[] };
  if (mosquitto) {
    for (let run = 0; run < runs; run++) {
      const { readyMs, rssMb } = await mosquittoStart(mosquitto);
      reference.ready.push(readyMs);
      reference.rss.push(rssMb);
    }
  } else console.error("bench footprint: skipped the reference: mosquitto not installed");
  const runtime: number[] = [];
  for (let run = 0; run < runs; run++) runtime.push(await emptyDenoRss());
  const withReference = (name: string, values: number[]) =>
    mosquitto && values.length > 0 ? { reference: { name, values } } : {};
  return [
    {
      group: "footprint",
      name: "process start → ready (deno run main.ts run; security, hub, agent, metrics)",
      unit: "ms",
      higherIsBetter: false,
      values: ready,
      ...withReference("mosquitto start → accepting", reference.ready),
    },
    {
      group: "footprint",
      name: "RSS 1 s after ready, no modules",
      unit: "MB",
      higherIsBetter: false,
      values: rssSoon,
    },
    {
      group: "footprint",
      name: "RSS idle, no modules (after the idle collection)",
      unit: "MB",
      higherIsBetter: false,
      values: rss,
      ...withReference("mosquitto idle", reference.rss),
    },
    {
      group: "footprint",
      name: "RSS of an empty script under the same Deno and V8 flags (the runtime's floor)",
      unit: "MB",
      higherIsBetter: false,
      values: runtime,
    },
    {
      group: "footprint",
      name: "pause of the idle collection after start-up (once, in the first quiet 5 s)",
      unit: "ms",
      higherIsBetter: false,
      values: collectionMs,
    },
    ...[...steps].map(([step, values]): Figure => ({
      group: "footprint",
      name: step === "the code"
        ? "RSS with the code loaded, before any component starts"
        : `RSS once ${step} started (start-up order)`,
      unit: "MB",
      higherIsBetter: false,
      values,
    })),
    {
      group: "footprint",
      name: `CPU at idle over ${idleSeconds} s (after the idle collection)`,
      unit: "%",
      higherIsBetter: false,
      values: cpu,
    },
    ...await bundleFigures(runs, idleSeconds),
    ...await benchReleaseFootprint(options),
  ];
}

if (import.meta.main) {
  const figures = await benchFootprint({ quick: Deno.args.includes("--quick") });
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
  console.log(textTable(tableRows(figures)));
}
