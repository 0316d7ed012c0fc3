/**
 * Footprint: time from process start to ready, RSS and CPU at idle (no modules), the RSS after
 * each component's start (from the daemon's own debug log), the size of the single-file bundle,
 * and the release executable's size and first and later start times, with mosquitto's start-up
 * time and idle RSS as the reference. ledge runs from main.ts with the daemon's V8 flags, as the
 * binary and the bundle run.
 *
 * Runnable alone: `deno run -A bench/footprint.ts [--quick]`.
 */
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";
import { type LedgeProcess, startLedge } from "../tests/_ledge.ts";
import { freePort } from "../tests/_services.ts";
import type { BenchOptions, Figure } from "./_figure.ts";
import { benchReleaseFootprint } from "./footprint_release.ts";
import { bundleLedge } from "../scripts/bundle.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";

const TICKS_PER_SECOND = 100;

/** Resident set size of process `pid`, in MB. */
export function rssMegabytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? NaN);
  return kb / 1024;
}

function cpuTicks(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of stat; after "pid (comm) " they are 12th and 13th.
  return Number(fields[11]) + Number(fields[12]);
}

async function idleCpuPercent(pid: number, seconds: number): Promise<number> {
  const before = cpuTicks(pid);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return ((cpuTicks(pid) - before) / TICKS_PER_SECOND / seconds) * 100;
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

async function bundleKilobytes(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bench-bundle-" });
  try {
    await bundleLedge(`${dir}/ledge.js`);
    return (await Deno.stat(`${dir}/ledge.js`)).size / 1024;
  } finally {
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

/** Measures start-up, idle RSS and CPU, and the bundle's size. */
export async function benchFootprint(options: BenchOptions): Promise<Figure[]> {
  const runs = options.quick ? 1 : 3;
  const idleSeconds = options.quick ? 2 : 10;
  const ready: number[] = [];
  const rss: number[] = [];
  const cpu: number[] = [];
  const steps = new Map<string, number[]>();
  for (let run = 0; run < runs; run++) {
    const begun = performance.now();
    // engine "none": the figure is ledge itself, not the engine's answer times.
    const ledge = await startLedge({
      extraConfig: '[agent]\nengine = "none"\n',
      denoFlags: [`--v8-flags=${DAEMON_V8_FLAGS}`],
    });
    try {
      ready.push(performance.now() - begun);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      cpu.push(await idleCpuPercent(ledge.child.pid, idleSeconds));
      rss.push(rssMegabytes(ledge.child.pid));
      for (const [step, mb] of rssByStep(ledge)) steps.set(step, [...steps.get(step) ?? [], mb]);
    } finally {
      await ledge.stop();
      await Deno.remove(ledge.stateDir, { recursive: true });
      await Deno.remove(ledge.configPath);
    }
  }
  const mosquitto = mosquittoBinary();
  const reference = { ready: [] as number[], rss: [] as number[] };
  if (mosquitto) {
    for (let run = 0; run < runs; run++) {
      const { readyMs, rssMb } = await mosquittoStart(mosquitto);
      reference.ready.push(readyMs);
      reference.rss.push(rssMb);
    }
  } else console.error("bench footprint: skipped the reference: mosquitto not installed");
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
      name: "RSS idle, no modules",
      unit: "MB",
      higherIsBetter: false,
      values: rss,
      ...withReference("mosquitto idle", reference.rss),
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
      name: `CPU at idle over ${idleSeconds} s`,
      unit: "%",
      higherIsBetter: false,
      values: cpu,
    },
    {
      group: "footprint",
      name: "dist/ledge.js (deno bundle, npm packages inlined)",
      unit: "KB",
      higherIsBetter: false,
      values: [await bundleKilobytes()],
    },
    ...await benchReleaseFootprint(options),
  ];
}

if (import.meta.main) {
  const figures = await benchFootprint({ quick: Deno.args.includes("--quick") });
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
  console.log(textTable(tableRows(figures)));
}
