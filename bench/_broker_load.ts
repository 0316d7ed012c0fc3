/**
 * The broker benchmark's load generator, one OS process of several (so the generator is not the
 * bottleneck): reads a {@linkcode LoadPlan} as the first line of stdin, connects its clients with
 * the `mqtt` npm client, prints `{"event":"ready"}`, waits for a `go` line, then each sender
 * publishes numbered messages (QoS 1 through a publish window, or paced at a fixed rate) to its
 * receiver and prints `{"event":"done", …}` with counts, times and latencies. The same generator
 * drives ledge's hub and mosquitto; only topics and credentials differ.
 *
 * @module
 */
import mqtt from "mqtt";
import { Buffer } from "node:buffer";

/** How one client connects. */
export interface ClientSpec {
  clientId: string;
  username?: string;
  password?: string;
}

/** A sender and the receiver its messages reach. */
export interface PairSpec {
  sender: ClientSpec;
  receiver: ClientSpec;
  /** Where the sender publishes. */
  publishTopic: string;
  /** What the receiver subscribes to. */
  subscribeFilter: string;
}

/** An idle client: connects, subscribes, does nothing (the RSS measurement). */
export interface IdleSpec extends ClientSpec {
  filters: string[];
}

/** What one generator process does. */
export interface LoadPlan {
  /** `mqtt://127.0.0.1:port` or `mqtts://localhost:port`. */
  url: string;
  caPem?: string;
  pairs: PairSpec[];
  idle: IdleSpec[];
  /** Messages per sender. */
  messages: number;
  /** Unacknowledged (QoS 1) or unwritten (QoS 0) publishes per sender. */
  window: number;
  payloadBytes: number;
  qos: 0 | 1;
  /** Messages per second per sender; absent means as fast as the window allows. */
  ratePerSecond?: number;
  /**
   * Messages per sender sent first, at the same pace on the same connections, and not measured
   * (the generator's JIT and the connections' first second); their latencies are reported apart.
   */
  warmupMessages?: number;
  /** Give up waiting for deliveries this long after the last publish. */
  drainTimeoutMs: number;
}

/** What a generator reports when done. */
export interface LoadResult {
  sent: number;
  received: number;
  /** Deliveries of an earlier run's messages (redelivered, not counted in `received`). */
  earlierRuns?: number;
  /** Epoch ms (high resolution) of the first publish and of the last delivery. */
  startedAt: number;
  finishedAt: number;
  /** Publish-to-delivery times in ms, when paced. */
  latenciesMs: number[];
  /** The same for the warm-up messages (not in `received` nor in `latenciesMs`). */
  warmupLatenciesMs?: number[];
  /** Paced: each measured message's delivery time from its turn in the schedule, in ms. */
  dueLatenciesMs?: number[];
  /** Paced: publish-to-PUBACK times of the measured messages (QoS 1), in ms. */
  ackLatenciesMs?: number[];
  /**
   * Paced: measured messages published 5 ms or more after their turn, because the window was
   * full (PUBACKs late) or the generator itself was late; that wait is not in their latency.
   */
  behindSchedule?: number;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

function connect(plan: LoadPlan, spec: ClientSpec): Promise<mqtt.MqttClient> {
  const client = mqtt.connect(plan.url, {
    clientId: spec.clientId,
    ...(spec.username === undefined ? {} : { username: spec.username }),
    ...(spec.password === undefined ? {} : { password: spec.password }),
    ...(plan.caPem ? { ca: plan.caPem, servername: "localhost" } : {}),
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    keepalive: 120,
    connectTimeout: 30_000,
  });
  return new Promise((resolve, reject) => {
    client.once("connect", () => resolve(client));
    client.once("error", (error) => reject(new Error(`${spec.clientId}: ${error.message}`)));
  });
}

/**
 * Marks this run's messages (bytes 12–15 of each payload). A durable broker redelivers the last
 * messages of an earlier run whose PUBACK the closing receiver never sent (at least once): they
 * arrive in the next run with their old send time, so counted as this run's they made its
 * latency max a second or more and padded its deliveries.
 */
const RUN = (Math.random() * 0xffff_ffff) >>> 0;

/**
 * A message: its publish time (bytes 0–7), number (8–11), run (12–15) and, paced, its turn in the
 * schedule (16–23: when it was due; a full window or a late generator publishes it later).
 */
function payload(size: number, sentAt: number, n: number, dueAt: number): Buffer {
  const bytes = Buffer.alloc(Math.max(size, 24), 0x61);
  bytes.writeDoubleLE(sentAt, 0);
  bytes.writeUInt32LE(n, 8);
  bytes.writeUInt32LE(RUN, 12);
  bytes.writeDoubleLE(dueAt, 16);
  return bytes;
}

/** A paced message sent this much later than its turn counts as sent behind schedule. */
const BEHIND_MS = 5;

/**
 * What one sender did: messages sent after its warm-up, when the first of them went, how many
 * of them went behind schedule, and (paced, QoS 1) how long each waited for its PUBACK.
 */
interface Sent {
  count: number;
  measuredFrom: number;
  behind: number;
  ackLatenciesMs: number[];
}

/**
 * Publishes `plan.warmupMessages` and then `plan.messages` from one sender (numbered from 0),
 * windowed, optionally paced.
 */
function send(plan: LoadPlan, client: mqtt.MqttClient, topic: string): Promise<Sent> {
  const warmup = plan.warmupMessages ?? 0;
  const total = warmup + plan.messages;
  return new Promise((resolve, reject) => {
    let next = 0;
    let inflight = 0;
    let done = 0;
    const started = now();
    let measuredFrom = started;
    let behind = 0;
    const ackLatenciesMs: number[] = [];
    const pump = () => {
      const allowed = plan.ratePerSecond === undefined
        ? total
        : Math.min(total, Math.floor(((now() - started) / 1000) * plan.ratePerSecond) + 1);
      while (inflight < plan.window && next < allowed) {
        const n = next++;
        inflight++;
        const sentAt = now();
        const dueAt = plan.ratePerSecond === undefined
          ? sentAt
          : started + (n / plan.ratePerSecond) * 1000;
        if (n === warmup) measuredFrom = sentAt;
        if (n >= warmup && sentAt - dueAt >= BEHIND_MS) behind++;
        const bytes = payload(plan.payloadBytes, sentAt, n, dueAt);
        client.publish(topic, bytes, { qos: plan.qos }, (error) => {
          if (error) return reject(error);
          if (plan.ratePerSecond !== undefined && plan.qos === 1 && n >= warmup) {
            ackLatenciesMs.push(now() - sentAt);
          }
          inflight--;
          done++;
          if (done === total) {
            return resolve({ count: total - warmup, measuredFrom, behind, ackLatenciesMs });
          }
          if (plan.ratePerSecond === undefined) pump();
        });
      }
      if (plan.ratePerSecond !== undefined && next < total) setTimeout(pump, 1);
    };
    pump();
  });
}

/**
 * What the receivers got: this run's measured messages (counted, with their latencies when
 * paced), its warm-up messages (latencies only) and earlier runs' redeliveries (counted).
 */
class Deliveries {
  received = 0;
  earlierRuns = 0;
  finishedAt = 0;
  readonly latenciesMs: number[] = [];
  readonly warmupLatenciesMs: number[] = [];
  readonly dueLatenciesMs: number[] = [];
  readonly everything: Promise<void>;
  #allReceived: () => void = () => {};
  readonly #expected: number;
  readonly #warmup: number;
  readonly #paced: boolean;

  constructor(plan: LoadPlan) {
    this.#expected = plan.pairs.length * plan.messages;
    this.#warmup = plan.warmupMessages ?? 0;
    this.#paced = plan.ratePerSecond !== undefined;
    this.everything = new Promise<void>((resolve) => this.#allReceived = resolve);
  }

  add(message: Buffer): void {
    const at = now();
    if (message.length < 24 || message.readUInt32LE(12) !== RUN) return void this.earlierRuns++;
    if (message.readUInt32LE(8) < this.#warmup) {
      this.warmupLatenciesMs.push(at - message.readDoubleLE(0));
      return;
    }
    this.received++;
    this.finishedAt = at;
    if (this.#paced) {
      this.latenciesMs.push(at - message.readDoubleLE(0));
      this.dueLatenciesMs.push(at - message.readDoubleLE(16));
    }
    if (this.received >= this.#expected) this.#allReceived();
  }
}

async function run(plan: LoadPlan, lines: AsyncIterator<string>): Promise<LoadResult> {
  const receivers = await Promise.all(plan.pairs.map((pair) => connect(plan, pair.receiver)));
  const senders = await Promise.all(plan.pairs.map((pair) => connect(plan, pair.sender)));
  const idle = await Promise.all(plan.idle.map((spec) => connect(plan, spec)));
  // A broker that dies mid-run closes every connection: fail rather than wait for PUBACKs.
  let closing = false;
  const lost = new Promise<never>((_, reject) => {
    for (const client of [...receivers, ...senders, ...idle]) {
      client.once("close", () => {
        if (!closing) reject(new Error("the broker closed a connection during the run"));
      });
    }
  });
  lost.catch(() => {});
  const deliveries = new Deliveries(plan);
  for (const [i, receiver] of receivers.entries()) {
    receiver.on("message", (_topic, message: Buffer) => deliveries.add(message));
    await receiver.subscribeAsync(plan.pairs[i]!.subscribeFilter, { qos: plan.qos });
  }
  for (const [i, client] of idle.entries()) {
    for (const filter of plan.idle[i]!.filters) await client.subscribeAsync(filter, { qos: 0 });
  }
  console.log(JSON.stringify({ event: "ready" }));
  await lines.next(); // "go"
  const goAt = now();
  const senderResults = await Promise.race([
    Promise.all(senders.map((client, i) => send(plan, client, plan.pairs[i]!.publishTopic))),
    lost,
  ]);
  const sent = senderResults.reduce((sum, { count }) => sum + count, 0);
  const behindSchedule = senderResults.reduce((sum, { behind }) => sum + behind, 0);
  const ackLatenciesMs = senderResults.flatMap((result) => result.ackLatenciesMs);
  const startedAt = senderResults.length === 0
    ? goAt
    : Math.min(...senderResults.map(({ measuredFrom }) => measuredFrom));
  if (plan.pairs.length * plan.messages > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      deliveries.everything,
      lost,
      new Promise((resolve) => timer = setTimeout(resolve, plan.drainTimeoutMs)),
    ]);
    clearTimeout(timer);
  }
  const { received, earlierRuns, finishedAt, latenciesMs, warmupLatenciesMs, dueLatenciesMs } =
    deliveries;
  const result = {
    sent,
    received,
    earlierRuns,
    startedAt,
    finishedAt,
    latenciesMs,
    ...(plan.warmupMessages ? { warmupLatenciesMs } : {}),
    ...(plan.ratePerSecond === undefined ? {} : { behindSchedule, dueLatenciesMs, ackLatenciesMs }),
  };
  if (plan.idle.length > 0) {
    console.log(JSON.stringify({ event: "done", ...result }));
    await Promise.race([lines.next(), lost]); // "quit": idle clients stay until the RSS is read
  }
  closing = true;
  await Promise.all(
    [...senders, ...receivers, ...idle].map((client) => client.endAsync(true)),
  );
  return result;
}

/**
 * The main of a one-shot generator (AMQP, HTTPS): reads the plan from the first line of stdin,
 * runs it, prints `done` with the result (or `failed`) and exits.
 */
export async function runGenerator<Plan>(
  run: (plan: Plan, lines: AsyncIterator<string>) => Promise<LoadResult>,
): Promise<never> {
  const lines = readLines();
  const first = await lines.next();
  const plan = JSON.parse(first.value as string) as Plan;
  try {
    console.log(JSON.stringify({ event: "done", ...await run(plan, lines) }));
    Deno.exit(0);
  } catch (error) {
    console.log(JSON.stringify({ event: "failed", message: (error as Error).message }));
    Deno.exit(1);
  }
}

/** The lines of stdin, one at a time (the plan, then `go` and `quit`). */
export async function* readLines(): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
}

if (import.meta.main) {
  const lines = readLines();
  const first = await lines.next();
  const plan = JSON.parse(first.value as string) as LoadPlan;
  try {
    const result = await run(plan, lines);
    if (plan.idle.length === 0) console.log(JSON.stringify({ event: "done", ...result }));
    Deno.exit(0);
  } catch (error) {
    console.log(JSON.stringify({ event: "failed", message: (error as Error).message }));
    Deno.exit(1);
  }
}
