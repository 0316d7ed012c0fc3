/**
 * Gives the heap back when the daemon goes quiet. V8 runs a full collection only when its old
 * generation reaches a limit, so what start-up or a burst of messages left behind stays resident
 * for as long as the daemon then idles: measured on the bundle at idle, a full collection took
 * the V8 heap from 18 to 12 MB committed and RSS from 67 to 63 MB. With `--expose-gc` (in
 * core/v8_flags.ts) the collector runs one collection at the end of each quiet period
 * that follows allocation; without it, it does nothing.
 */
import process from "node:process";
import type { Logger } from "../core/log.ts";

/** When a collection runs. */
export interface IdlePolicy {
  /** How often the collector looks, in ms. */
  periodMs: number;
  /** The share of one core the daemon may have used during a period that still counts as quiet. */
  quietCpuShare: number;
  /** How far the heap must have grown since the last collection to collect again, in bytes. */
  minGrowthBytes: number;
  /**
   * The least time between two collections, in ms: a steady trickle of messages can look quiet
   * while the heap keeps growing, and V8's own collections serve it well enough.
   */
  minIntervalMs: number;
}

/**
 * The daemon's policy: a look every 5 s; quiet is under 2 % of a core; 2 MB of growth; at most
 * one collection per 30 s (each pauses the main thread: 29-31 ms after start-up, the footprint
 * bench's row). A trickle looks quiet: 20 routed messages a second had a collection every ~50 s,
 * each a 40-55 ms pause. Under 1 % it would not, but neither would 100 connected idle modules
 * (measured: no collection 12 s after they connected, where 2 % gave back 3 MB).
 */
export const IDLE_POLICY: IdlePolicy = {
  periodMs: 5_000,
  quietCpuShare: 0.02,
  minGrowthBytes: 2 << 20,
  minIntervalMs: 30_000,
};

/** What the collector reads at each look. */
export interface IdleSample {
  /** CPU time the process used so far (user + system), in microseconds. */
  cpuMicros: number;
  /** The V8 heap in use, in bytes. */
  heapUsedBytes: number;
}

/**
 * Whether to collect now: the period that ended used less CPU than `policy` calls quiet, and the
 * heap grew by at least `policy.minGrowthBytes` over `liveBytes`, what the last collection left.
 */
export function shouldCollect(
  policy: IdlePolicy,
  cpuMicrosInPeriod: number,
  heapUsedBytes: number,
  liveBytes: number,
): boolean {
  const quiet = cpuMicrosInPeriod <= policy.periodMs * 1000 * policy.quietCpuShare;
  return quiet && heapUsedBytes - liveBytes >= policy.minGrowthBytes;
}

function processSample(): IdleSample {
  const cpu = process.cpuUsage();
  return { cpuMicros: cpu.user + cpu.system, heapUsedBytes: Deno.memoryUsage().heapUsed };
}

/** Runs a full collection at the end of each quiet period that follows allocation. */
export class IdleCollector {
  readonly #collect: () => void;
  readonly #logger: Logger;
  readonly #policy: IdlePolicy;
  readonly #sample: () => IdleSample;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastCpuMicros = 0;
  // Nothing collected yet: the first quiet period after start-up collects.
  #liveBytes = 0;
  #lastCollected = -Infinity;

  constructor(
    collect: () => void,
    logger: Logger,
    options: { policy?: IdlePolicy; sample?: () => IdleSample } = {},
  ) {
    this.#collect = collect;
    this.#logger = logger;
    this.#policy = options.policy ?? IDLE_POLICY;
    this.#sample = options.sample ?? processSample;
  }

  start(): void {
    this.#lastCpuMicros = this.#sample().cpuMicros;
    const timer = setInterval(() => this.look(), this.#policy.periodMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One look: collects if the period that just ended was quiet after allocation. */
  look(): void {
    const { cpuMicros, heapUsedBytes } = this.#sample();
    const used = cpuMicros - this.#lastCpuMicros;
    this.#lastCpuMicros = cpuMicros;
    const begun = performance.now();
    if (begun - this.#lastCollected < this.#policy.minIntervalMs) return;
    if (!shouldCollect(this.#policy, used, heapUsedBytes, this.#liveBytes)) return;
    this.#lastCollected = begun;
    this.#collect();
    const after = this.#sample();
    // The collection's own CPU is not the next period's activity.
    this.#lastCpuMicros = after.cpuMicros;
    this.#liveBytes = after.heapUsedBytes;
    this.#logger.debug("collected the heap at idle", {
      heapBeforeMb: megabytes(heapUsedBytes),
      heapAfterMb: megabytes(after.heapUsedBytes),
      ms: Math.round((performance.now() - begun) * 10) / 10,
    });
  }
}

function megabytes(bytes: number): number {
  return Math.round(bytes / 104857.6) / 10;
}

/** Starts an idle collector when V8 exposes `gc` (`--expose-gc`); otherwise returns undefined. */
export function startIdleCollector(logger: Logger): IdleCollector | undefined {
  const gc = (globalThis as { gc?: (options: Record<string, string>) => void }).gc;
  if (typeof gc !== "function") {
    logger.debug("no collection at idle: V8 does not expose gc (run with --expose-gc)");
    return undefined;
  }
  // "last-resort": what V8 does on a low-memory notification, collects until nothing more frees and
  // gives the emptied pages back; a plain major collection kept them (measured: anon RSS unchanged).
  const collector = new IdleCollector(
    () => gc({ type: "major", execution: "sync", flavor: "last-resort" }),
    logger,
  );
  collector.start();
  return collector;
}
