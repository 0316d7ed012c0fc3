/**
 * `deno task bench [--quick] [--markdown] [--only group,…]`: runs every benchmark, prints a table
 * and one JSON line per figure (`BENCH {...}`), and with `--markdown` writes BENCHMARKS.md with the
 * machine, the date and the commit. Benchmarks are bounded in time and only touch loopback.
 *
 * @module
 */
import { parseArgs } from "node:util";
import os from "node:os";
import type { BenchOptions, Figure } from "./_figure.ts";
import { figureRecord, markdownTable, tableRows, textTable } from "./report.ts";
import { BENCHES } from "./suite.ts";

async function commitId(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      stderr: "null",
    })
      .output();
    return new TextDecoder().decode(out.stdout).trim() || "unknown";
  } catch {
    return "unknown";
  }
}

function machine(): string {
  const cpus = os.cpus();
  const gib = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, ${gib} GiB RAM, ` +
    `Linux ${os.release()}, Deno ${Deno.version.deno}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      markdown: { type: "boolean", default: false },
      only: { type: "string" },
    },
  });
  const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const options: BenchOptions = { quick: values.quick ?? false };
  const figures: Figure[] = [];
  const skipped: string[] = [];
  for (const bench of BENCHES) {
    if (only && !only.includes(bench.group)) continue;
    console.error(`bench: ${bench.group} …`);
    const begun = performance.now();
    try {
      const result = await bench.run(options);
      figures.push(...result);
      for (const figure of result) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      skipped.push(`${bench.group}: ${reason}`);
      console.error(`bench: ${bench.group} failed: ${reason}`);
    }
    console.error(
      `bench: ${bench.group} took ${((performance.now() - begun) / 1000).toFixed(1)} s`,
    );
  }
  const table = tableRows(figures);
  console.log("\n" + textTable(table));
  for (const line of skipped) console.log(`skipped: ${line}`);
  if (values.markdown) {
    const text = [
      "# ledge benchmarks",
      "",
      `Measured ${
        new Date().toISOString().slice(0, 10)
      } at commit ${await commitId()} on ${machine()}` +
      `${options.quick ? " (quick run: figures not meant to be quoted)" : ""}.`,
      "Each figure is min/median/max over its runs; the ratio is ledge's median over the reference's,",
      "measured in the same run. Produced by `deno task bench --markdown`.",
      "",
      markdownTable(table),
      "",
      ...skipped.map((line) => `- skipped: ${line}`),
      "",
    ].join("\n");
    await Deno.writeTextFile(new URL("../BENCHMARKS.md", import.meta.url), text);
    console.error("bench: wrote BENCHMARKS.md");
  }
  return skipped.length > 0 && figures.length === 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
