/**
 * Fleet benchmark: one parent ledge (with the daemon's V8 flags) and N simulated child edge
 * devices (tests/_fleet_sim.ts: one process holding 2·N MQTT/TLS clients that speak the child
 * side — each child's device and `$edgeAgent` connections, twins, reported properties). The
 * children register themselves through an enrollment group. Figures:
 *
 * - registration: the time for all N to connect and register, and the parent's RSS with them
 *   connected (and its CPU time over the registration);
 * - deployment: the time from `POST /v1/fleet/deployments` targeting all N to every one of them
 *   reporting success (the parent writes each child's twins, the child takes the desired patch
 *   and reports), and the parent's CPU time per child;
 * - query: a query over the N device twins (`SELECT deviceId … WHERE tags.fleet = 'sim'`, all
 *   rows) and a grouped count over the N `$edgeAgent` module twins, answered through the
 *   management API (round trip on its unix socket);
 * - reconnect storm: every connection dropped at once and all 2·N reconnecting at once: the time
 *   until all are back, and how many were refused (must be 0).
 *
 * Run alone: `deno run -A bench/fleet.ts [--quick] [--children N]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { answer, createMgmtClient, type MgmtClient } from "../cli/_client.ts";
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";
import { fleetManifest, imageModule } from "../tests/_fleet.ts";
import { SimulatedFleet } from "../tests/_fleet_sim.ts";
import { type LedgeProcess, startLedge } from "../tests/_ledge.ts";
import type { BenchOptions, Figure } from "./_figure.ts";
import { waitFor } from "../tests/_wait.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";
import { cpuSeconds, rssMegabytes } from "./_proc.ts";

const GROUP = "fleet";
const ROOT = new URL("../", import.meta.url).pathname;

async function count(client: MgmtClient, query: string): Promise<number> {
  const page = await answer(client.fleet.v1.fleet.query.$post({ json: { query } }));
  return Number((page.items[0] as { n?: number } | undefined)?.n ?? 0);
}

/** Seconds from creating a deployment over all children to all of them reporting success. */
async function deploymentRun(
  client: MgmtClient,
  parent: LedgeProcess,
  run: number,
  children: number,
): Promise<{ seconds: number; cpuMsPerChild: number }> {
  const id = `bench-${run}`;
  const cpuBefore = cpuSeconds(parent.child.pid);
  const begun = performance.now();
  await answer(client.fleet.v1.fleet.deployments.$post({
    json: {
      id,
      content: fleetManifest({ [`app${run}`]: imageModule(`app:${run}`) }, {}) as never,
      targetCondition: "tags.fleet = 'sim'",
      priority: run,
    },
  }));
  let shown = 0;
  await waitFor(`all ${children} to report ${id}`, async () => {
    const view = await answer(client.fleet.v1.fleet.deployments[":id"].$get({ param: { id } }));
    if (performance.now() - shown > 10_000) {
      shown = performance.now();
      console.error(`bench: fleet: ${id}: ${JSON.stringify(view.systemMetrics.results)}`);
    }
    return view.systemMetrics.results.reportedSuccessfulCount === children;
  }, 300_000);
  const seconds = (performance.now() - begun) / 1000;
  return { seconds, cpuMsPerChild: ((cpuSeconds(parent.child.pid) - cpuBefore) * 1000) / children };
}

/** Round trips of `query`, and the parent's CPU time per query (apart from the machine's load). */
async function queryMs(
  client: MgmtClient,
  parent: LedgeProcess,
  query: string,
  samples: number,
): Promise<{ ms: number[]; cpuMs: number }> {
  const values: number[] = [];
  const cpuBefore = cpuSeconds(parent.child.pid);
  for (let i = 0; i < samples; i++) {
    const begun = performance.now();
    await answer(client.fleet.v1.fleet.query.$post({ json: { query, pageSize: 1000 } }));
    values.push(performance.now() - begun);
  }
  return { ms: values, cpuMs: ((cpuSeconds(parent.child.pid) - cpuBefore) * 1000) / samples };
}

function figure(name: string, unit: string, values: number[], higherIsBetter = false): Figure {
  return { group: GROUP, name, unit, values, higherIsBetter };
}

/** A parent ledge as the daemon runs (its V8 flags), no engine, with its management client. */
async function startParent(): Promise<{ parent: LedgeProcess; client: MgmtClient }> {
  const parent = await startLedge({
    deviceId: "plant",
    logLevel: "info",
    command: [
      Deno.execPath(),
      "run",
      "--allow-all",
      `--v8-flags=${DAEMON_V8_FLAGS}`,
      `${ROOT}main.ts`,
    ],
    extraConfig: '[agent]\nengine = "none"\n',
  });
  return { parent, client: createMgmtClient(parent.stateDir) };
}

interface Registration {
  sims: SimulatedFleet;
  seconds: number;
  cpuSeconds: number;
  rssAtOnce: number;
  rssSettled: number;
}

/** N children register through an enrollment group; the parent's time, CPU and RSS. */
async function registration(
  client: MgmtClient,
  parent: LedgeProcess,
  children: number,
): Promise<Registration> {
  const enrollment = await answer(client.fleet.v1.fleet.enrollments.$post({
    json: { id: "bench", edge: true, tags: { fleet: "sim" } },
  }));
  const cpuBefore = cpuSeconds(parent.child.pid);
  const begun = performance.now();
  const sims = await SimulatedFleet.start({
    port: parent.ports.mqtt,
    caPem: enrollment.parent!.caPem,
    iothubHostname: "localhost",
    groupKey: enrollment.primaryKey,
    count: children,
    concurrency: 100,
  });
  await waitFor(
    "every child registered",
    async () =>
      (await count(client, "SELECT COUNT() AS n FROM devices WHERE tags.fleet = 'sim'")) ===
        children,
    120_000,
  );
  const seconds = (performance.now() - begun) / 1000;
  const cpu = cpuSeconds(parent.child.pid) - cpuBefore;
  // Right after the burst the heap still holds its garbage; the second figure is the settled one.
  const rssAtOnce = rssMegabytes(parent.child.pid);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const rssSettled = rssMegabytes(parent.child.pid);
  return { sims, seconds, cpuSeconds: cpu, rssAtOnce, rssSettled };
}

const connected = (client: MgmtClient) =>
  count(client, "SELECT COUNT() AS n FROM devices WHERE connectionState = 'Connected'");

/** Every connection dropped at once, then all reconnecting at once: time until all are back. */
async function reconnectStorm(
  client: MgmtClient,
  sims: SimulatedFleet,
  children: number,
): Promise<{ seconds: number; refused: number }> {
  sims.dropAll();
  await waitFor(
    "the parent to see every child gone",
    async () => (await connected(client)) === 0,
    60_000,
  );
  const started = performance.now();
  const refused = await sims.connectAll(Infinity);
  await waitFor(
    "the parent to see every child back",
    async () => (await connected(client)) === children - refused.length,
    120_000,
  );
  if (refused.length > 0) {
    console.error(`bench: fleet: refused in the storm: ${refused.slice(0, 5).join("; ")}`);
  }
  return { seconds: (performance.now() - started) / 1000, refused: refused.length };
}

const DEVICE_QUERY = "SELECT deviceId FROM devices WHERE tags.fleet = 'sim'";
const MODULE_QUERY =
  "SELECT properties.reported.lastDesiredStatus.code AS code, COUNT() AS n FROM devices.modules " +
  "WHERE moduleId = '$edgeAgent' GROUP BY properties.reported.lastDesiredStatus.code";

interface FleetRuns {
  children: number;
  registration: Registration;
  deployments: { seconds: number; cpuMsPerChild: number }[];
  rssAfter: number;
  deviceQuery: { ms: number[]; cpuMs: number };
  moduleQuery: { ms: number[]; cpuMs: number };
  storms: { seconds: number; refused: number }[];
}

function fleetFigures(r: FleetRuns): Figure[] {
  const { children, registration: reg } = r;
  return [
    figure(`${children} children connect and register (enrollment), s`, "s", [reg.seconds]),
    figure(`parent CPU time for ${children} registrations`, "s", [reg.cpuSeconds]),
    figure(`parent RSS, ${children} children just connected (2 connections each)`, "MB", [
      reg.rssAtOnce,
    ]),
    figure(`parent RSS, ${children} children connected, 10 s later`, "MB", [reg.rssSettled]),
    figure(`parent RSS after ${r.deployments.length} deployments to ${children} children`, "MB", [
      r.rssAfter,
    ]),
    figure(
      `deployment to ${children} children, create → all report success`,
      "s",
      r.deployments.map((d) => d.seconds),
    ),
    figure(
      "parent CPU time per child for one deployment",
      "ms",
      r.deployments.map((d) => d.cpuMsPerChild),
    ),
    figure(
      `query over ${children} device twins (all rows, API round trip)`,
      "ms",
      r.deviceQuery.ms,
    ),
    figure(`parent CPU time per query over ${children} device twins`, "ms", [
      r.deviceQuery.cpuMs,
    ]),
    figure(
      `grouped COUNT over ${children} $edgeAgent twins (API round trip)`,
      "ms",
      r.moduleQuery.ms,
    ),
    figure(`parent CPU time per grouped COUNT over ${children} $edgeAgent twins`, "ms", [
      r.moduleQuery.cpuMs,
    ]),
    figure(
      `reconnect storm: ${children * 2} connections at once, until all back`,
      "s",
      r.storms.map((s) => s.seconds),
    ),
    figure("reconnect storm: connections refused", "count", r.storms.map((s) => s.refused)),
  ];
}

/** Runs the fleet benchmark. */
export async function benchFleet(options: BenchOptions & { children?: number }): Promise<Figure[]> {
  const children = options.children ?? (options.quick ? 100 : 1000);
  const runs = options.quick ? 1 : 3;
  const samples = options.quick ? 5 : 20;
  const { parent, client } = await startParent();
  let sims: SimulatedFleet | undefined;
  try {
    const reg = await registration(client, parent, children);
    sims = reg.sims;
    const deployments = [];
    for (let run = 1; run <= runs; run++) {
      deployments.push(await deploymentRun(client, parent, run, children));
    }
    const rssAfter = rssMegabytes(parent.child.pid);
    const deviceQuery = await queryMs(client, parent, DEVICE_QUERY, samples);
    const moduleQuery = await queryMs(client, parent, MODULE_QUERY, samples);
    const storms = [];
    for (let run = 0; run < runs; run++) storms.push(await reconnectStorm(client, sims, children));
    return fleetFigures({
      children,
      registration: reg,
      deployments,
      rssAfter,
      deviceQuery,
      moduleQuery,
      storms,
    });
  } finally {
    await sims?.close();
    client.close();
    await parent.stop();
    await Deno.remove(parent.stateDir, { recursive: true }).catch(() => {});
    await Deno.remove(parent.configPath).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { quick: { type: "boolean", default: false }, children: { type: "string" } },
  });
  const figures = await benchFleet({
    quick: values.quick ?? false,
    ...(values.children === undefined ? {} : { children: Number(values.children) }),
  });
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
  console.log(textTable(tableRows(figures)));
}
