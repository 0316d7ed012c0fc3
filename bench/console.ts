/**
 * The web console's cost: RSS of an idle ledge with the console listening against the same
 * ledge with `[console] enabled = false`, and RSS once a browser (here: fetch) has opened the
 * overview, which loads the pages. Nothing runs per message, so there is no throughput figure.
 *
 * Runnable alone: `deno run -A bench/console.ts [--quick]`.
 */
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";
import { type LedgeProcess, startLedge } from "../tests/_ledge.ts";
import type { BenchOptions, Figure } from "./_figure.ts";
import { rssMegabytes } from "./_proc.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Signs in with `ledge console` and loads the overview and the modules page once. */
async function openPages(ledge: LedgeProcess): Promise<void> {
  const printed = await ledge.cli(["console"]);
  if (printed.code !== 0) throw new Error(`ledge console failed: ${printed.stderr}`);
  const login = await fetch(printed.stdout.trim(), { redirect: "manual" });
  await login.body?.cancel();
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
  for (const path of ["/", "/modules", "/flow", "/assets/htmx.min.js"]) {
    const page = await fetch(new URL(path, login.url), { headers: { cookie } });
    await page.text();
  }
}

async function idleRss(consoleEnabled: boolean, settleMs: number, open: boolean): Promise<number> {
  const ledge = await startLedge({
    // As the daemon runs: its heap settings decide much of what the console's pages leave.
    denoFlags: [`--v8-flags=${DAEMON_V8_FLAGS}`],
    extraConfig: '[agent]\nengine = "none"\n',
    consoleConfig: `enabled = ${consoleEnabled}`,
  });
  try {
    if (open) await openPages(ledge);
    await pause(settleMs);
    return rssMegabytes(ledge.child.pid);
  } finally {
    await ledge.stop();
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
}

/** Measures the console's idle RSS against none, and after its pages loaded. */
export async function benchConsole(options: BenchOptions): Promise<Figure[]> {
  const runs = options.quick ? 1 : 3;
  const settleMs = options.quick ? 1000 : 5000;
  const without: number[] = [];
  const listening: number[] = [];
  const opened: number[] = [];
  for (let run = 0; run < runs; run++) {
    without.push(await idleRss(false, settleMs, false));
    listening.push(await idleRss(true, settleMs, false));
    opened.push(await idleRss(true, settleMs, true));
  }
  return [
    {
      group: "console",
      name: "RSS idle, console listening, nobody looking",
      unit: "MB",
      higherIsBetter: false,
      values: listening,
      reference: { name: "console disabled", values: without },
    },
    {
      group: "console",
      name: "RSS idle after the first pages (the console loaded)",
      unit: "MB",
      higherIsBetter: false,
      values: opened,
      reference: { name: "console disabled", values: without },
    },
  ];
}

if (import.meta.main) {
  const figures = await benchConsole({ quick: Deno.args.includes("--quick") });
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
  console.log(textTable(tableRows(figures)));
}
