/**
 * Upstream benchmark: a child with N messages queued while its parent (a real mosquitto over TLS
 * on loopback) is down; the parent starts and the child drains. Figures: the drain rate (every
 * message PUBACKed by the parent and acked in the store), the time from the link coming up to the
 * first forwarded message, and, as the reference, an mqtt.js client publishing the same messages
 * with the same window straight to the same parent. Beside each rate, the CPU time of this process
 * (user + system, all threads) per message over the same window: on a loaded machine the rate
 * measures the load, the CPU time much less so.
 *
 * Run alone: `deno run -A bench/upstream.ts [--quick]` (needs mosquitto and openssl).
 *
 * @module
 */
import mqtt from "mqtt";
import process from "node:process";
import { UPSTREAM_ENDPOINT } from "../upstream/mod.ts";
import { telemetryPublish } from "../upstream/telemetry_publish.ts";
import { makeParentPki, mosquittoParent, upstreamChild } from "../tests/_upstream_parent.ts";
import type { BenchOptions, Figure } from "./_figure.ts";
import { waitFor } from "../tests/_wait.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";

const GROUP = "upstream";
const RUNS = 3;
const WINDOW = 100;
const BODY = new Uint8Array(200).fill(0x41);

function telemetry(n: number) {
  return {
    body: BODY,
    appProperties: { temperatureAlert: n % 10 === 0 ? "true" : "false" },
    systemProperties: {
      messageId: `msg-${n}`,
      connectionDeviceId: "child",
      contentType: "application/json",
      contentEncoding: "utf-8",
    },
  };
}

interface RunResult {
  drainPerSecond: number;
  drainCpuMicros: number;
  firstForwardMs: number;
  referencePerSecond: number;
  referenceCpuMicros: number;
}

/** CPU time of this process so far, µs. */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function referencePublish(
  port: number,
  caPem: string,
  count: number,
): Promise<{ perSecond: number; cpuMicros: number }> {
  const client = await mqtt.connectAsync(`mqtts://localhost:${port}`, {
    ca: caPem,
    clientId: `reference-${crypto.randomUUID()}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const messages = Array.from(
    { length: count },
    (_, n) => telemetryPublish(telemetry(n), { deviceId: "child" }),
  );
  const started = performance.now();
  const cpuBefore = cpuMicros();
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    let done = 0;
    function pump(): void {
      while (sent - done < WINDOW && sent < count) {
        const { topic, payload } = messages[sent++]!;
        client.publish(topic, payload as Uint8Array as never, { qos: 1 }, (error) => {
          if (error) return reject(error);
          if (++done === count) resolve();
          else pump();
        });
      }
    }
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuMicros() - cpuBefore;
  await client.endAsync();
  return { perSecond: count / seconds, cpuMicros: cpu / count };
}

async function oneRun(count: number): Promise<RunResult> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bench-upstream-" });
  const pki = await makeParentPki(dir);
  const parent = mosquittoParent(pki);
  const child = upstreamChild(dir, {
    upstreamToml: `hostname = "localhost"\nport = ${parent.port}\nca_file = "${pki.caFile}"\n` +
      `shared_access_key = "${btoa("bench-child-key")}"\nmax_inflight = ${WINDOW}`,
    heldModules: [],
  });
  try {
    for (let i = 0; i < count; i += 5000) {
      const batch = Math.min(5000, count - i);
      await Promise.all(
        Array.from({ length: batch }, (_, j) =>
          child.store.enqueue(telemetry(i + j), [{
            endpoint: UPSTREAM_ENDPOINT,
            priority: 0,
            ttlSeconds: -1,
          }])),
      );
    }
    // The store's ack is called on the parent's PUBACK: its first call is the first forward,
    // its count-th the last.
    let firstAckMs: number | undefined;
    let firstAckCpuMicros = 0;
    let acked = 0;
    let drained: { atMs: number; cpuMicros: number } | undefined;
    const ack = child.store.ack.bind(child.store);
    child.store.ack = (endpoint, seqs) => {
      if (firstAckMs === undefined) [firstAckMs, firstAckCpuMicros] = [Date.now(), cpuMicros()];
      ack(endpoint, seqs);
      if (++acked === count) drained = { atMs: Date.now(), cpuMicros: cpuMicros() };
    };
    await child.start();
    await waitFor(
      "a failed attempt",
      () => (child.component.upstream.state().device?.attempts ?? 0) > 0,
    );
    await parent.start();
    const { upstream } = child.component;
    await waitFor("the link", () => upstream.state().connected, 30_000);
    const logsBefore = child.logs.length;
    // `since` is when the link came up: CONNACK and SUBACK received.
    const connectedAtMs = Date.parse(upstream.state().device!.since!);
    const end = await waitFor("the drain", () => drained, 600_000);
    // A drain that dropped its link (and sent messages one at a time after) says so.
    for (const line of child.logs.slice(logsBefore)) {
      if (/"level":"(warn|error)"/.test(line)) console.error(`child: ${line}`);
    }
    const drainSeconds = (end.atMs - connectedAtMs) / 1000;
    const firstForwardMs = firstAckMs! - connectedAtMs;
    const reference = await referencePublish(
      parent.port,
      await Deno.readTextFile(pki.caFile),
      count,
    );
    return {
      drainPerSecond: count / drainSeconds,
      // From the first PUBACK to the last, over the messages acked after the first.
      drainCpuMicros: (end.cpuMicros - firstAckCpuMicros) / (count - 1),
      firstForwardMs,
      referencePerSecond: reference.perSecond,
      referenceCpuMicros: reference.cpuMicros,
    };
  } finally {
    await child.stop();
    await parent.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the upstream benchmark. */
export async function benchUpstream(options: BenchOptions): Promise<Figure[]> {
  const count = options.quick ? 5_000 : 100_000;
  const results: RunResult[] = [];
  for (let run = 0; run < RUNS; run++) results.push(await oneRun(count));
  return [
    {
      group: GROUP,
      name: `drain child→parent after reconnect, ${count} queued 200 B messages, TLS loopback`,
      unit: "msg/s",
      values: results.map((r) => Math.round(r.drainPerSecond)),
      higherIsBetter: true,
      reference: {
        name: `mqtt.js publishing the same messages straight to the parent, window ${WINDOW}`,
        values: results.map((r) => Math.round(r.referencePerSecond)),
      },
    },
    {
      group: GROUP,
      name: `CPU time per drained message (this process, user + system), ${count} queued 200 B`,
      unit: "µs/msg",
      values: results.map((r) => Math.round(r.drainCpuMicros * 10) / 10),
      higherIsBetter: false,
      reference: {
        name: `mqtt.js publishing the same messages straight to the parent, window ${WINDOW}`,
        values: results.map((r) => Math.round(r.referenceCpuMicros * 10) / 10),
      },
    },
    {
      group: GROUP,
      name: "link up (CONNACK+SUBACK) → first message PUBACKed by the parent, 1 ms resolution",
      unit: "ms",
      values: results.map((r) => r.firstForwardMs),
      higherIsBetter: false,
    },
  ];
}

if (import.meta.main) {
  const figures = await benchUpstream({ quick: Deno.args.includes("--quick") });
  console.log(textTable(tableRows(figures)));
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
}
