/**
 * The broker benchmark's HTTPS device API load generator: reads an {@linkcode HttpLoadPlan} as the
 * first line of stdin, opens keep-alive connections for each leaf device, prints
 * `{"event":"ready"}`, waits for `go`, then POSTs 256-byte telemetry requests as the SDK's Http
 * transport sends them (`iothub-app-*` headers, SAS in Authorization), `concurrency` in flight per
 * device, and prints `{"event":"done", …}` with the requests answered 204.
 *
 * @module
 */
import { Agent, request } from "node:https";
import { Buffer } from "node:buffer";
import { type LoadResult, runGenerator } from "./_broker_load.ts";

/** What one HTTP generator process does. */
export interface HttpLoadPlan {
  port: number;
  caPem: string;
  devices: { deviceId: string; token: string }[];
  /** Requests per device. */
  requests: number;
  /** Requests in flight per device. */
  concurrency: number;
  payloadBytes: number;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

function post(
  plan: HttpLoadPlan,
  agent: Agent,
  device: HttpLoadPlan["devices"][number],
  body: Buffer,
) {
  return new Promise<number>((resolve, reject) => {
    const outgoing = request({
      host: "localhost",
      servername: "localhost",
      port: plan.port,
      method: "POST",
      path: `/devices/${device.deviceId}/messages/events?api-version=2021-04-12`,
      headers: {
        authorization: device.token,
        "iothub-app-kind": "bench",
        "content-length": String(body.byteLength),
      },
      ca: plan.caPem,
      agent,
    }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

async function device(plan: HttpLoadPlan, spec: HttpLoadPlan["devices"][number]) {
  const agent = new Agent({ keepAlive: true, maxSockets: plan.concurrency });
  const body = Buffer.alloc(plan.payloadBytes, 0x61);
  let next = 0;
  let ok = 0;
  const worker = async () => {
    while (next < plan.requests) {
      next++;
      const status = await post(plan, agent, spec, body);
      if (status !== 204) throw new Error(`${spec.deviceId}: the hub answered ${status}`);
      ok++;
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  agent.destroy();
  return ok;
}

async function run(plan: HttpLoadPlan, lines: AsyncIterator<string>): Promise<LoadResult> {
  console.log(JSON.stringify({ event: "ready" }));
  await lines.next(); // "go"
  const startedAt = now();
  const counts = await Promise.all(plan.devices.map((spec) => device(plan, spec)));
  const answered = counts.reduce((sum, count) => sum + count, 0);
  return { sent: answered, received: answered, startedAt, finishedAt: now(), latenciesMs: [] };
}

if (import.meta.main) await runGenerator<HttpLoadPlan>(run);
