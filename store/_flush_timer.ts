/**
 * The timer behind group commit: runs its callback at the next loop turn when asked to, and at
 * the earliest later deadline asked for. Private to store/.
 */
import { clearImmediate, setImmediate } from "node:timers";

/**
 * Two one-shot slots: a run at the next turn, and a timeout that a sooner deadline moves earlier
 * and a later one leaves alone. A run at the next turn leaves the timeout pending: the callback
 * finds nothing due when it fires early (a cheap call), where clearing and setting a timeout
 * at every group commit (the ack commit's deadline) cost a timer object each, which lived long
 * enough to be promoted to V8's old generation (~180 B per message at 5,000 msg/s).
 */
export class FlushTimer {
  readonly #run: () => void;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #timeout: ReturnType<typeof setTimeout> | undefined;
  #deadline = Infinity;

  constructor(run: () => void) {
    this.#run = run;
  }

  /** Runs the callback in `delayMs` (0: at the next loop turn) unless it is due sooner. */
  schedule(delayMs: number): void {
    // setTimeout(0) waits a millisecond or more in Deno; setImmediate runs right after the I/O
    // callbacks of this loop turn, and those are the enqueues worth sharing a commit with.
    if (delayMs === 0) {
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        this.#run();
      });
      return;
    }
    const deadline = performance.now() + delayMs;
    if (this.#timeout !== undefined && this.#deadline <= deadline) return;
    clearTimeout(this.#timeout);
    this.#deadline = deadline;
    this.#timeout = setTimeout(() => {
      this.#timeout = undefined;
      this.#deadline = Infinity;
      this.#run();
    }, delayMs);
  }

  /** Forgets the pending runs, if any. */
  cancel(): void {
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    clearTimeout(this.#timeout);
    this.#immediate = undefined;
    this.#timeout = undefined;
    this.#deadline = Infinity;
  }
}
