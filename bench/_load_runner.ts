/**
 * Load generator processes of the broker benchmark and the measurement around them: start one
 * per plan (the MQTT, AMQP or HTTPS generator script), let them all go at once, and read the
 * broker's throughput and CPU time per message.
 *
 * @module
 */
import type { LoadResult } from "./_broker_load.ts";
import { cpuSeconds } from "./_proc.ts";

const LOAD_SCRIPT = new URL("./_broker_load.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

/** A running load generator process. */
export interface Generator {
  ready: Promise<void>;
  done: Promise<LoadResult>;
  send(line: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts a load generator process (`script`, the MQTT one by default) with its plan. */
export function startGenerator(plan: unknown, script = LOAD_SCRIPT): Generator {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  const send = (line: string) => writer.write(encoder.encode(`${line}\n`));
  let onReady: () => void = () => {};
  let onDone: (result: LoadResult) => void = () => {};
  let onFail: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  const done = new Promise<LoadResult>((resolve, reject) => {
    onDone = resolve;
    const previous = onFail;
    onFail = (error) => {
      previous(error);
      reject(error);
    };
  });
  ready.catch(() => {});
  done.catch(() => {});
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const event = JSON.parse(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        if (event.event === "ready") onReady();
        else if (event.event === "done") onDone(event as LoadResult);
        else if (event.event === "failed") onFail(new Error(`load generator: ${event.message}`));
      }
    }
    onFail(new Error("load generator exited early"));
  })();
  send(JSON.stringify(plan));
  return {
    ready,
    done,
    send,
    async close() {
      await writer.close().catch(() => {});
      await child.status;
      await reading;
    },
  };
}

/** Splits `items` over `count` generator processes. */
export function spread<T>(items: readonly T[], count: number): T[][] {
  const groups: T[][] = Array.from({ length: count }, () => []);
  items.forEach((item, i) => groups[i % count]!.push(item));
  return groups.filter((group) => group.length > 0);
}

/** What one measured load gave. */
export interface LoadOutcome {
  perSecond: number;
  /** CPU time (user + system, all threads) the broker process spent per delivered message. */
  cpuMicrosPerMessage: number;
  received: number;
  expected: number;
  latenciesMs: number[];
  /** Latencies of the warm-up messages sent before the measured ones (paced runs). */
  warmupLatenciesMs: number[];
  /** Paced runs: measured messages published 5 ms or more behind schedule. */
  behindSchedule: number;
  /** Paced runs: delivery times counted from each message's turn in the schedule. */
  dueLatenciesMs: number[];
  /** Paced QoS 1 runs: publish-to-PUBACK times. */
  ackLatenciesMs: number[];
}

/**
 * Runs started generators together (`go`) and measures the broker process `pid`: messages
 * received per second from the first send to the last delivery, and its CPU time per message.
 */
export async function measure(
  pid: number,
  generators: Generator[],
  expected: number,
): Promise<LoadOutcome> {
  try {
    await Promise.all(generators.map((generator) => generator.ready));
    const cpuBefore = cpuSeconds(pid);
    await Promise.all(generators.map((generator) => generator.send("go")));
    const results = await Promise.all(generators.map((generator) => generator.done));
    const cpu = cpuSeconds(pid) - cpuBefore;
    const startedAt = Math.min(...results.map((r) => r.startedAt));
    const finishedAt = Math.max(...results.map((r) => r.finishedAt));
    const received = results.reduce((sum, r) => sum + r.received, 0);
    const warmupLatenciesMs = results.flatMap((r) => r.warmupLatenciesMs ?? []);
    return {
      perSecond: received / ((finishedAt - startedAt) / 1000),
      // The CPU time covers the warm-up too.
      cpuMicrosPerMessage: (cpu * 1e6) / Math.max(received + warmupLatenciesMs.length, 1),
      received,
      expected,
      latenciesMs: results.flatMap((r) => r.latenciesMs),
      warmupLatenciesMs,
      behindSchedule: results.reduce((sum, r) => sum + (r.behindSchedule ?? 0), 0),
      dueLatenciesMs: results.flatMap((r) => r.dueLatenciesMs ?? []),
      ackLatenciesMs: results.flatMap((r) => r.ackLatenciesMs ?? []),
    };
  } finally {
    await Promise.all(generators.map((generator) => generator.close()));
  }
}
