/**
 * The timer behind group commit: runs its callback once at the earliest deadline asked for.
 * Private to store/.
 */
import { clearImmediate, setImmediate } from "node:timers";

/** A one-shot timer that a sooner request moves earlier and a later one leaves alone. */
export class FlushTimer {
  readonly #run: () => void;
  #cancel: (() => void) | undefined;
  #deadline = Infinity;

  constructor(run: () => void) {
    this.#run = run;
  }

  /** Runs the callback in `delayMs` (0: at the next loop turn) unless it is due sooner. */
  schedule(delayMs: number): void {
    // Nothing is sooner than a run at the next turn (the enqueues of a turn ask for it each).
    if (this.#deadline === -Infinity) return;
    const deadline = delayMs === 0 ? -Infinity : performance.now() + delayMs;
    if (this.#cancel !== undefined && this.#deadline <= deadline) return;
    this.cancel();
    this.#deadline = deadline;
    const fire = () => {
      this.#cancel = undefined;
      this.#deadline = Infinity;
      this.#run();
    };
    // setTimeout(0) waits a millisecond or more in Deno; setImmediate runs right after the I/O
    // callbacks of this loop turn, and those are the enqueues worth sharing a commit with.
    if (delayMs === 0) {
      const immediate = setImmediate(fire);
      this.#cancel = () => clearImmediate(immediate);
    } else {
      const timeout = setTimeout(fire, delayMs);
      this.#cancel = () => clearTimeout(timeout);
    }
  }

  /** Forgets the pending run, if any. */
  cancel(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#deadline = Infinity;
  }
}
