/**
 * Where the store's fdatasyncs run (the WAL's after a group commit, the body log's before one):
 * on the event loop while the disk answers fast, on a thread of Deno's pool for a while after it
 * did not. Private to store/.
 *
 * Through the pool a sync costs about twice the CPU of the same sync made on the loop: the
 * handoff to a pool thread and the wake-up of the loop when it completes (a 24 KiB write and its
 * fdatasync in a loop: 218-310 us of CPU against 102-146; a worker thread woken through Atomics
 * cost the same as the pool). A sync on the loop holds the loop for the disk's latency, though,
 * so syncs stay on the loop only while the moving average of theirs stays within
 * {@linkcode LOOP_AVERAGE_MAX_MS} and no single one takes {@linkcode LOOP_SYNC_MAX_MS}. A slow
 * disk (an SD card under writes) sends them to the pool for {@linkcode POOL_PERIOD_MS}, then the
 * loop tries again, judging the disk afresh. A single slow sync among fast ones (a busy moment of
 * the disk) moves the average a little and no more.
 */
import { Histogram } from "../core/histogram.ts";
import { SYNC_SECONDS_BOUNDS, type SyncCounters } from "./store_types.ts";

/** The moving average of the loop's syncs (ms) above which they go to the pool. */
export const LOOP_AVERAGE_MAX_MS = 10;
/** A single sync on the loop this long (ms) sends the next ones to the pool at once. */
export const LOOP_SYNC_MAX_MS = 100;
/** How long syncs go to the pool after the loop's were slow (ms), before it tries again. */
export const POOL_PERIOD_MS = 10_000;
/** Weight of the last sync in the moving average: about the last 8 syncs count. */
const WEIGHT = 1 / 8;

/** Decides where each sync runs, by how fast the disk answered the loop's lately. */
export class SyncPolicy {
  readonly #now: () => number;
  readonly #onSlow: (averageMs: number, lastMs: number) => void;
  /** Until then (by `now`), syncs go to the pool. */
  #poolUntil = -Infinity;
  /** Moving average of the loop's syncs (ms). */
  #averageMs = 0;
  readonly counters: SyncCounters = { onLoop: 0, onPool: 0, toPool: 0 };
  /** How long the syncs took (s), on the loop and on the pool. */
  readonly seconds = new Histogram(SYNC_SECONDS_BOUNDS);

  /** `onSlow` hears when the loop's syncs go to the pool, with their average and the last one. */
  constructor(
    onSlow: (averageMs: number, lastMs: number) => void,
    now: () => number = () => performance.now(),
  ) {
    this.#onSlow = onSlow;
    this.#now = now;
  }

  /** Whether the next sync goes to the pool. */
  get onPool(): boolean {
    return this.#now() < this.#poolUntil;
  }

  /**
   * Syncs with `onLoop` (synchronous) or `onPool` (on Deno's pool), then calls `done` with the
   * error when the sync failed: at once after `onLoop`, returning undefined; else when the pool's
   * sync completes, as the promise returned.
   */
  run(
    onLoop: () => unknown,
    onPool: () => Promise<unknown>,
    done: (error?: unknown) => void,
  ): Promise<void> | undefined {
    if (this.onPool) {
      this.counters.onPool++;
      const begun = this.#now();
      return onPool().then(() => undefined, failure).then((error) => {
        this.seconds.observe((this.#now() - begun) / 1000);
        done(error);
      });
    }
    this.counters.onLoop++;
    const started = this.#now();
    let error: unknown;
    try {
      onLoop();
    } catch (thrown) {
      error = failure(thrown);
    }
    // Failed or not, a slow sync counts: a failing disk can be slow.
    const tookMs = this.#now() - started;
    this.seconds.observe(tookMs / 1000);
    this.#noteLoopSync(started, tookMs);
    done(error);
    return undefined;
  }

  #noteLoopSync(started: number, tookMs: number): void {
    this.#averageMs += (tookMs - this.#averageMs) * WEIGHT;
    if (this.#averageMs <= LOOP_AVERAGE_MAX_MS && tookMs < LOOP_SYNC_MAX_MS) return;
    this.counters.toPool++;
    this.#poolUntil = started + tookMs + POOL_PERIOD_MS;
    this.#onSlow(this.#averageMs, tookMs);
    this.#averageMs = 0;
  }
}

/** A rejection without a reason still refuses what the sync was for. */
function failure(error: unknown): unknown {
  return error ?? new Error("unknown error");
}
