/**
 * A message refused as too large is not refused forever. The refusal closes an MQTT connection
 * without a PUBACK, and the SDK sends the same message again at every reconnect: the sender is
 * stuck behind it. Each refusal is counted by sender and content (a hash of the property bag and
 * the payload, which holds the message id); at the {@linkcode DEAD_LETTER_AFTER}th refusal of the
 * same message the hub acknowledges it and drops it as dead-lettered (counted, logged once).
 */
import { createHash } from "node:crypto";

/** Refusals of one message after which it is acknowledged and dead-lettered. */
export const DEAD_LETTER_AFTER = 3;

/** What to do with a message refused as too large. */
export type TooLargeVerdict = { refusal: number; deadLetter: boolean };

/** Counts refusals of too-large messages by sender and content (bounded, oldest forgotten). */
export class TooLargeRefusals {
  readonly #counts = new Map<string, number>();
  readonly #limit: number;
  readonly #maxEntries: number;

  constructor(options: { limit?: number; maxEntries?: number } = {}) {
    this.#limit = options.limit ?? DEAD_LETTER_AFTER;
    this.#maxEntries = options.maxEntries ?? 1024;
  }

  /** Records one refusal of `payload` (with property `bag`) from `sender` (an identity key). */
  refuse(sender: string, bag: string, payload: Uint8Array): TooLargeVerdict {
    const key = `${sender}\n${createHash("sha256").update(bag).update(payload).digest("hex")}`;
    const refusal = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.delete(key);
    if (refusal >= this.#limit) return { refusal, deadLetter: true };
    this.#counts.set(key, refusal);
    if (this.#counts.size > this.#maxEntries) {
      this.#counts.delete(this.#counts.keys().next().value!);
    }
    return { refusal, deadLetter: false };
  }
}
