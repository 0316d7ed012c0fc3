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

function payload(size: number, sentAt: number, n: number): Buffer {
  const bytes = Buffer.alloc(Math.max(size, 16), 0x61);
  bytes.writeDoubleLE(sentAt, 0);
  bytes.writeUInt32LE(n, 8);
  bytes.writeUInt32LE(RUN, 12);
  return bytes;
}

/** Publishes `plan.messages` from one sender, windowed, optionally paced. */
function send(plan: LoadPlan, client: mqtt.MqttClient, topic: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let inflight = 0;
    let done = 0;
    const started = now();
    const pump = () => {
      const allowed = plan.ratePerSecond === undefined
        ? plan.messages
        : Math.min(plan.messages, Math.floor(((now() - started) / 1000) * plan.ratePerSecond) + 1);
      while (inflight < plan.window && next < allowed) {
        const n = next++;
        inflight++;
        client.publish(topic, payload(plan.payloadBytes, now(), n), { qos: plan.qos }, (error) => {
          if (error) return reject(error);
          inflight--;
          done++;
          if (done === plan.messages) return resolve(done);
          if (plan.ratePerSecond === undefined) pump();
        });
      }
      if (plan.ratePerSecond !== undefined && next < plan.messages) setTimeout(pump, 1);
    };
    pump();
  });
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
  const expected = plan.pairs.length * plan.messages;
  let received = 0;
  let earlierRuns = 0;
  let finishedAt = 0;
  const latenciesMs: number[] = [];
  const paced = plan.ratePerSecond !== undefined;
  let allReceived: () => void = () => {};
  const everything = new Promise<void>((resolve) => allReceived = resolve);
  for (const [i, receiver] of receivers.entries()) {
    receiver.on("message", (_topic, message: Buffer) => {
      const at = now();
      if (message.length < 16 || message.readUInt32LE(12) !== RUN) return void earlierRuns++;
      received++;
      finishedAt = at;
      if (paced) latenciesMs.push(at - message.readDoubleLE(0));
      if (received >= expected) allReceived();
    });
    await receiver.subscribeAsync(plan.pairs[i]!.subscribeFilter, { qos: plan.qos });
  }
  for (const [i, client] of idle.entries()) {
    for (const filter of plan.idle[i]!.filters) await client.subscribeAsync(filter, { qos: 0 });
  }
  console.log(JSON.stringify({ event: "ready" }));
  await lines.next(); // "go"
  const startedAt = now();
  const sent = (await Promise.race([
    Promise.all(senders.map((client, i) => send(plan, client, plan.pairs[i]!.publishTopic))),
    lost,
  ])).reduce((sum, count) => sum + count, 0);
  if (expected > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      everything,
      lost,
      new Promise((resolve) => timer = setTimeout(resolve, plan.drainTimeoutMs)),
    ]);
    clearTimeout(timer);
  }
  const result = { sent, received, earlierRuns, startedAt, finishedAt, latenciesMs };
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
