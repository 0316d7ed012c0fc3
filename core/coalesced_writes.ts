/**
 * Writes of one document, coalesced and in order: a change asks for a write, and every change
 * made while a write runs shares the next one, which reads the state when it starts. A caller
 * resolves once a write holding its change is on disk, so a burst of changes costs a few writes,
 * not one per change.
 *
 * @module
 */

/** Coalesces the writes of one document; `write` serializes the state as it is when called. */
export class CoalescedWrites {
  #next: Promise<void> | undefined;
  #last: Promise<void> = Promise.resolve();

  constructor(private readonly write: () => Promise<void>) {}

  /** Resolves once a write that started after this call has finished (rejects if it failed). */
  request(): Promise<void> {
    if (this.#next) return this.#next;
    const next = this.#last.catch(() => {}).then(() => {
      this.#next = undefined;
      return this.write();
    });
    this.#next = next;
    this.#last = next;
    return next;
  }
}
