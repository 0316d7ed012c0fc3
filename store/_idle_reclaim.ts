/**
 * The maintenance tick's space reclaim, done when the store is quiet. Private to store/.
 *
 * Giving free pages back moves pages and checkpoints (with fsyncs) on the main thread: measured
 * on the shared CI-like disk, 64 ms for 7 MiB and 305 ms for the 64 MiB one reclaim takes at
 * most, a stall of every connection when it fell into traffic. So the tick only starts watching:
 * a slice of the work runs after a second without an enqueue or an ack, and the rest after the
 * next quiet seconds. Nothing here is urgent: a store short of space reclaims at once (the
 * committer's urgent path), and SQLite reuses free pages meanwhile.
 */

/** How long the store must have been quiet before a slice runs. */
const QUIET_MS = 1_000;
/** 1 MiB vacuum steps per slice. */
const SLICE_STEPS = 4;
/** Quiet checks one tick allows; the next tick starts again. */
const MAX_CHECKS = 50;

/** What {@linkcode IdleReclaim} needs from the store. */
export interface IdleReclaimContext {
  /** A number that changes with every enqueue and ack. */
  activity(): number;
  /** Whether enough free pages wait to be worth giving back. */
  wanted(): boolean;
  /** Gives back at most `steps` MiB. */
  reclaim(steps: number): void;
  /** Told when a slice failed (the file could not be read or written now). */
  failed(error: unknown): void;
}

/** Reclaims free pages in slices while the store is quiet. */
export class IdleReclaim {
  readonly #context: IdleReclaimContext;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #seen = 0;
  #checks = 0;

  constructor(context: IdleReclaimContext) {
    this.#context = context;
  }

  /** Called by the maintenance tick: watches for quiet moments when there is space to give. */
  start(): void {
    if (this.#timer !== undefined || !this.#context.wanted()) return;
    this.#checks = 0;
    this.#watch();
  }

  /** Stops watching. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #watch(): void {
    this.#seen = this.#context.activity();
    this.#timer = setTimeout(() => this.#check(), QUIET_MS);
    Deno.unrefTimer(this.#timer);
  }

  #check(): void {
    this.#timer = undefined;
    try {
      if (this.#context.activity() === this.#seen) {
        this.#context.reclaim(SLICE_STEPS);
        if (!this.#context.wanted()) return;
      }
    } catch (error) {
      this.#context.failed(error); // the next tick tries again
      return;
    }
    if (++this.#checks < MAX_CHECKS) this.#watch();
  }
}
