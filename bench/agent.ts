/**
 * Agent convergence: from `ledge deploy` of 10 modules (images present) to all reported running,
 * on Podman and on Docker, against the same 10 containers created and started by a shell loop of
 * `<engine> run -d`; and the time to bring back a module killed from outside.
 *
 * Runnable alone: `deno run -A bench/agent.ts [--quick]`.
 */
import {
  engineCli,
  ENGINES,
  removeContainersLabelled,
  type TestEngine,
  testImage,
} from "../tests/_engines.ts";
import { type LedgeProcess, startLedge } from "../tests/_ledge.ts";
import { deploymentManifest } from "../tests/_manifests.ts";
import { waitFor } from "../tests/_wait.ts";
import type { BenchOptions, Figure } from "./_figure.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";

const MODULES = 10;

function manifest(image: string, prefix: string): unknown {
  const createOptions = JSON.stringify({
    Cmd: ["sh", "-c", "sleep 3600"],
    HostConfig: { NetworkMode: "none" },
  });
  return deploymentManifest(Object.fromEntries(
    Array.from({ length: MODULES }, (_, i) => [`${prefix}${i}`, {
      version: "1.0",
      type: "docker",
      status: "running",
      restartPolicy: "always",
      // The images are present, as the figure asks: no registry round trip per module.
      imagePullPolicy: "never",
      settings: { image, createOptions },
    }]),
  ));
}

interface ModuleRow {
  name: string;
  status: string;
  restartCount?: number;
}

async function modules(ledge: LedgeProcess): Promise<ModuleRow[]> {
  const { stdout, code } = await ledge.cli(["list", "--json"]);
  if (code !== 0) return [];
  const parsed = JSON.parse(stdout);
  return (Array.isArray(parsed) ? parsed : parsed.modules ?? []) as ModuleRow[];
}

async function untilRunning(
  ledge: LedgeProcess,
  names: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const rows = await modules(ledge);
    if (names.every((name) => rows.find((row) => row.name === name)?.status === "running")) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Cannot converge: ${names.join(", ")} not all running within ${timeoutMs} ms`);
}

async function shellLoop(engine: TestEngine, image: string, label: string): Promise<number> {
  const names = Array.from(
    { length: MODULES },
    (_, i) => `bench-ref-${i}-${crypto.randomUUID().slice(0, 6)}`,
  );
  const host = engine.name === "docker" ? `-H unix://${engine.socketPath}` : "";
  const script = names.map((name) =>
    `${engine.name} ${host} run -d --name ${name} --label ${label} --network none ${image} sh -c 'sleep 3600' >/dev/null`
  ).join(" && ");
  const begun = performance.now();
  const { success, stderr } = await new Deno.Command("sh", {
    args: ["-c", script],
    stderr: "piped",
  }).output();
  const ms = performance.now() - begun;
  if (!success) {
    throw new Error(`Cannot run the reference loop: ${new TextDecoder().decode(stderr)}`);
  }
  return ms;
}

async function benchEngine(engine: TestEngine, runs: number): Promise<Figure[]> {
  const image = await testImage(engine, { name: "bench-agent" });
  const deploy: number[] = [];
  const reference: number[] = [];
  const recover: number[] = [];
  const socket = engine.socketPath;
  for (let run = 0; run < runs; run++) {
    const ledge = await startLedge({
      extraConfig: `[agent]\nengine = "docker"\nengine_socket = "${socket}"\nnetwork = ""\n` +
        `backoff_base_seconds = 1\nbackoff_max_seconds = 4\n`,
    });
    const prefix = `b${run}m`;
    const names = Array.from({ length: MODULES }, (_, i) => `${prefix}${i}`);
    try {
      const file = `${ledge.stateDir}.manifest.json`;
      await Deno.writeTextFile(file, JSON.stringify(manifest(image, prefix)));
      const begun = performance.now();
      const deployed = await ledge.cli(["deploy", file]);
      if (deployed.code !== 0) throw new Error(`Cannot deploy: ${deployed.stderr}`);
      await untilRunning(ledge, names, 120_000);
      deploy.push(performance.now() - begun);
      await Deno.remove(file);

      // A module killed from outside: the time until it is reported running again.
      // It is back once it runs with one more restart counted: a `ledge list` round trip can be
      // slower than the recovery, so its stopped state may never be seen.
      const victim = names[0]!;
      const restarts = (await modules(ledge)).find((m) => m.name === victim)?.restartCount ?? 0;
      const killedAt = performance.now();
      await engineCli(engine, ["kill", victim]);
      await waitFor(`${victim} running again`, async () => {
        const row = (await modules(ledge)).find((m) => m.name === victim);
        return row?.status === "running" && (row.restartCount ?? 0) > restarts;
      }, 60_000);
      recover.push(performance.now() - killedAt);
    } finally {
      await ledge.stop();
      for (const name of names) await engineCli(engine, ["rm", "-f", name]).catch(() => {});
      await Deno.remove(ledge.stateDir, { recursive: true }).catch(() => {});
      await Deno.remove(ledge.configPath).catch(() => {});
    }
    const label = `dev.ledge.bench=${crypto.randomUUID().slice(0, 8)}`;
    try {
      reference.push(await shellLoop(engine, image, label));
    } finally {
      await removeContainersLabelled(engine, label);
    }
  }
  return [
    {
      group: "agent",
      name: `${engine.name}: deploy 10 modules → all running`,
      unit: "ms",
      higherIsBetter: false,
      values: deploy,
      reference: { name: `shell loop of ${engine.name} run -d`, values: reference },
    },
    {
      group: "agent",
      name: `${engine.name}: killed module → running again (backoff base 1 s)`,
      unit: "ms",
      higherIsBetter: false,
      values: recover,
    },
  ];
}

/** Runs the agent convergence benchmark on every engine found. */
export async function benchAgent(options: BenchOptions): Promise<Figure[]> {
  const runs = options.quick ? 1 : 3;
  const figures: Figure[] = [];
  const skipped: string[] = [];
  for (const engine of ENGINES) {
    if (engine.requirement.missing) {
      skipped.push(`${engine.name}: ${engine.requirement.missing}`);
      continue;
    }
    figures.push(...await benchEngine(engine, runs));
  }
  if (figures.length === 0) throw new Error(`skipped: ${skipped.join("; ") || "no engine"}`);
  for (const line of skipped) console.error(`bench agent: skipped ${line}`);
  return figures;
}

if (import.meta.main) {
  const figures = await benchAgent({ quick: Deno.args.includes("--quick") });
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
  console.log(textTable(tableRows(figures)));
}
