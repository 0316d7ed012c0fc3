/**
 * The broker benchmark's AMQP and HTTPS rows, on the same `ledge run` as the MQTT rows:
 *
 * - AMQP module→route→module: the same module pairs and routes, each module on AMQP/TLS with a
 *   CBS token, transfers settled by the hub once durable, at most `window` unsettled per sender
 *   (the same window as the MQTT publishers). Reference: the same load over MQTT/TLS in the same
 *   run (TLS on both sides; the MQTT rows above use plain MQTT on loopback). Target: AMQP ≥ 0.7×.
 * - HTTPS device telemetry: leaf devices POSTing 256-byte messages as the SDK's Http transport
 *   does, a few requests in flight each; requests answered 204 (durable) per second.
 *
 * @module
 */
import { answer, type MgmtClient } from "../cli/_client.ts";
import { createSasToken } from "../iothub/mod.ts";
import type { AmqpLoadPlan } from "./_amqp_load.ts";
import type { HttpLoadPlan } from "./_http_load.ts";
import type { Figure } from "./_figure.ts";
import { type LoadOutcome, measure, spread, startGenerator } from "./_load_runner.ts";
import type { PairSpec } from "./_broker_load.ts";

const AMQP_SCRIPT = new URL("./_amqp_load.ts", import.meta.url).pathname;
const HTTP_SCRIPT = new URL("./_http_load.ts", import.meta.url).pathname;
const GROUP = "broker";
const GENERATORS = 2;
const LEAVES = 4;
const HTTP_CONCURRENCY = 8;
const SMALL = 256;

/** The running ledge, as the broker benchmark started it. */
export interface Broker {
  pid: number;
  pair(i: number): PairSpec;
  heads?: LedgeHeads;
}

/** What the AMQP and HTTPS rows need of the running ledge. */
export interface LedgeHeads {
  caPem: string;
  ports: { mqtts: number; https: number; amqps: number };
  host: string;
  device: string;
  /** SAS tokens of the modules, by module id. */
  tokens: ReadonlyMap<string, string>;
  /** Leaf devices registered for the HTTPS rows, with their SAS tokens. */
  leaves: { deviceId: string; token: string }[];
}

/** Registers the leaf devices and reads the trust bundle of a started ledge. */
export async function ledgeHeads(
  mgmt: MgmtClient,
  options: {
    dir: string;
    host: string;
    device: string;
    tokens: ReadonlyMap<string, string>;
    ports: LedgeHeads["ports"];
  },
): Promise<LedgeHeads> {
  const caPem = await Deno.readTextFile(`${options.dir}/state/pki/root_ca.pem`);
  const leaves = [];
  for (let i = 0; i < LEAVES; i++) {
    const deviceId = `bench-leaf-${i}`;
    const added = await answer(mgmt.security.v1.identities.$post({
      json: { deviceId, auth: "sas" },
    }));
    const connectionString = "connectionString" in added ? added.connectionString : "";
    const key = /SharedAccessKey=([^;]+)/.exec(connectionString)?.[1] ?? "";
    const token = createSasToken({ host: options.host, deviceId }, {
      keyBase64: key,
      expiry: Math.floor(Date.now() / 1000) + 7200,
    });
    leaves.push({ deviceId, token });
  }
  return {
    caPem,
    ports: options.ports,
    host: options.host,
    device: options.device,
    tokens: options.tokens,
    leaves,
  };
}

function amqpPlans(
  ledge: Broker,
  heads: LedgeHeads,
  options: { messages: number; window: number; pairs: number },
) {
  const module = (i: number, role: "sender" | "receiver") => {
    const id = /\/modules\/([^/]+)\//.exec(
      role === "sender" ? ledge.pair(i).publishTopic : ledge.pair(i).subscribeFilter,
    )![1]!;
    return {
      audience: encodeURIComponent(`${heads.host}/devices/${heads.device}/modules/${id}`),
      token: heads.tokens.get(id)!,
      address: `/devices/${heads.device}/modules/${id}/messages/events`,
    };
  };
  const pairs = Array.from({ length: options.pairs }, (_, i) => ({
    sender: module(i, "sender"),
    receiver: module(i, "receiver"),
  }));
  return spread(pairs, GENERATORS).map((group): AmqpLoadPlan => ({
    port: heads.ports.amqps,
    caPem: heads.caPem,
    pairs: group,
    messages: options.messages,
    window: options.window,
    payloadBytes: SMALL,
    drainTimeoutMs: 15_000,
  }));
}

async function runAmqp(
  ledge: Broker,
  heads: LedgeHeads,
  options: { messages: number; window: number; pairs: number },
) {
  const generators = amqpPlans(ledge, heads, options).map((plan) =>
    startGenerator(plan, AMQP_SCRIPT)
  );
  return await measure(ledge.pid, generators, options.pairs * options.messages);
}

async function runMqttTls(
  ledge: Broker,
  heads: LedgeHeads,
  options: { messages: number; window: number; pairs: number },
) {
  const pairs = Array.from({ length: options.pairs }, (_, i) => ledge.pair(i));
  const generators = spread(pairs, GENERATORS).map((group) =>
    startGenerator({
      url: `mqtts://localhost:${heads.ports.mqtts}`,
      caPem: heads.caPem,
      pairs: group,
      idle: [],
      messages: options.messages,
      window: options.window,
      payloadBytes: SMALL,
      qos: 1,
      drainTimeoutMs: 15_000,
    })
  );
  return await measure(ledge.pid, generators, options.pairs * options.messages);
}

async function runHttp(ledge: Broker, heads: LedgeHeads, requests: number) {
  const generators = spread(heads.leaves, GENERATORS).map((devices) =>
    startGenerator(
      {
        port: heads.ports.https,
        caPem: heads.caPem,
        devices,
        requests,
        concurrency: HTTP_CONCURRENCY,
        payloadBytes: SMALL,
      } satisfies HttpLoadPlan,
      HTTP_SCRIPT,
    )
  );
  return await measure(ledge.pid, generators, heads.leaves.length * requests);
}

function complete(outcome: LoadOutcome, what: string): LoadOutcome {
  if (outcome.received < outcome.expected) {
    throw new Error(
      `Cannot benchmark ${what}: ${outcome.received} of ${outcome.expected} messages arrived`,
    );
  }
  return outcome;
}

/**
 * Measures the AMQP and HTTPS heads of `ledge` (started by the broker benchmark): `runs` runs of
 * each, after a warm-up.
 */
export async function benchHeads(
  ledge: Broker,
  options: { runs: number; messages: number; window: number; pairs: number },
): Promise<Figure[]> {
  const heads = ledge.heads;
  if (!heads) return [];
  const warmUp = { ...options, messages: 1_000 };
  await runAmqp(ledge, heads, warmUp);
  await runMqttTls(ledge, heads, warmUp);
  await runHttp(ledge, heads, 200);
  const amqp: LoadOutcome[] = [];
  const mqtts: LoadOutcome[] = [];
  const http: LoadOutcome[] = [];
  const requests = Math.ceil(options.messages / 5);
  for (let run = 0; run < options.runs; run++) {
    // AMQP and MQTT/TLS take turns going first, so neither always runs on the fresher store.
    if (run % 2 === 0) {
      amqp.push(complete(await runAmqp(ledge, heads, options), "AMQP"));
      mqtts.push(complete(await runMqttTls(ledge, heads, options), "MQTT/TLS"));
    } else {
      mqtts.push(complete(await runMqttTls(ledge, heads, options), "MQTT/TLS"));
      amqp.push(complete(await runAmqp(ledge, heads, options), "AMQP"));
    }
    http.push(complete(await runHttp(ledge, heads, requests), "HTTPS"));
  }
  const setup = `${options.pairs} pairs, window ${options.window}, ${GENERATORS} load processes`;
  const tlsReference = (pick: (outcome: LoadOutcome) => number) => ({
    reference: { name: "MQTT/TLS, same run", values: mqtts.map(pick) },
  });
  const perSecond = (outcome: LoadOutcome) => outcome.perSecond;
  const cpu = (outcome: LoadOutcome) => outcome.cpuMicrosPerMessage;
  const leaves = `${heads.leaves.length} devices × ${HTTP_CONCURRENCY} requests in flight`;
  return [
    {
      group: GROUP,
      name: `AMQP/TLS module→route→module, settled when durable, 256 B (${setup})`,
      unit: "msg/s",
      higherIsBetter: true,
      values: amqp.map(perSecond),
      ...tlsReference(perSecond),
    },
    {
      group: GROUP,
      name: "AMQP/TLS broker CPU time per message, 256 B (user + system, all threads)",
      unit: "µs CPU/msg",
      higherIsBetter: false,
      values: amqp.map(cpu),
      ...tlsReference(cpu),
    },
    {
      group: GROUP,
      name: `HTTPS device telemetry, 256 B, 204 once durable (${leaves})`,
      unit: "req/s",
      higherIsBetter: true,
      values: http.map(perSecond),
    },
    {
      group: GROUP,
      name: "HTTPS device telemetry: broker CPU time per request",
      unit: "µs CPU/req",
      higherIsBetter: false,
      values: http.map(cpu),
    },
  ];
}
