/**
 * How the reconcile loop sleeps: until a deadline, or until something wakes it (an engine event,
 * a new desired state, an operator request), or until it is stopped. A wake-up that comes while
 * the loop is busy is remembered, so the next sleep returns at once.
 */

/** The loop's alarm clock. */
export class LoopWakeup {
  #dirty = true;
  #wakeUp: (() => void) | undefined;

  /** Something changed: the loop must go round again. */
  wake(): void {
    this.#dirty = true;
    this.#wakeUp?.();
  }

  /** The loop starts a round: changes from here on need another one. */
  beginRound(): void {
    this.#dirty = false;
  }

  /** Sleeps `ms` unless woken, already woken since the round began, or `signal` aborts. */
  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (!this.#dirty && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms));
        signal.addEventListener("abort", done);
        this.#wakeUp = done;
      });
    }
    this.#wakeUp = undefined;
  }
}

/** Sleeps `ms`, or less when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
