/**
 * Upstream benchmark: a child with N messages queued while its parent (a real mosquitto over TLS
 * on loopback) is down; the parent starts and the child drains. Figures: the drain rate (every
 * message PUBACKed by the parent and acked in the store), the time from the link coming up to the
 * first forwarded message, and, as the reference, an mqtt.js client publishing the same messages
 * with the same window straight to the same parent.
 *
 * Run alone: `deno run -A bench/upstream.ts [--quick]` (needs mosquitto and openssl).
 *
 * @module
 */
import mqtt from "mqtt";
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
  firstForwardMs: number;
  referencePerSecond: number;
}

async function referencePublish(port: number, caPem: string, count: number): Promise<number> {
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
  await client.endAsync();
  return count / seconds;
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
    // The store's ack is called on the parent's PUBACK: its first call is the first forward.
    let firstAckMs: number | undefined;
    const ack = child.store.ack.bind(child.store);
    child.store.ack = (endpoint, seqs) => {
      firstAckMs ??= Date.now();
      ack(endpoint, seqs);
    };
    await child.start();
    await waitFor(
      "a failed attempt",
      () => (child.component.upstream.state().device?.attempts ?? 0) > 0,
    );
    await parent.start();
    const { upstream } = child.component;
    await waitFor("the link", () => upstream.state().connected, 30_000);
    // `since` is when the link came up: CONNACK and SUBACK received.
    const connectedAtMs = Date.parse(upstream.state().device!.since!);
    await waitFor("the drain", () => upstream.state().forwarding.forwarded >= count, 600_000);
    const drainSeconds = (Date.now() - connectedAtMs) / 1000;
    const firstForwardMs = firstAckMs! - connectedAtMs;
    const referencePerSecond = await referencePublish(
      parent.port,
      await Deno.readTextFile(pki.caFile),
      count,
    );
    return { drainPerSecond: count / drainSeconds, firstForwardMs, referencePerSecond };
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
