/**
 * C2D messages handed out over HTTPS and not settled yet: each is locked for its device under a
 * random lock token (the response's ETag) until the device completes, rejects or abandons it, or
 * the lock times out and the message goes back to its queue.
 */
import { identityKey, type IdentityRef } from "../../iothub/mod.ts";
import type { DeliverySettle } from "../head_port.ts";

/** How a device ends a lock. */
export type LockOutcome = "complete" | "reject" | "abandon";

interface Lock {
  owner: string;
  settle: DeliverySettle;
  timer: ReturnType<typeof setTimeout>;
}

/** The locks of one hub. */
export class C2dLocks {
  readonly #locks = new Map<string, Lock>();

  constructor(private readonly lockMs: number) {}

  /** Locks a taken message for `owner`; returns the lock token. */
  lock(owner: IdentityRef, settle: DeliverySettle): string {
    const token = crypto.randomUUID();
    const timer = setTimeout(() => {
      this.#locks.delete(token);
      settle.release();
    }, this.lockMs);
    this.#locks.set(token, { owner: identityKey(owner), settle, timer });
    return token;
  }

  /** Settles the lock `token` of `owner`; false when it is not (or no longer) theirs. */
  settle(owner: IdentityRef, token: string, outcome: LockOutcome): boolean {
    const lock = this.#locks.get(token);
    if (!lock || lock.owner !== identityKey(owner)) return false;
    this.#locks.delete(token);
    clearTimeout(lock.timer);
    if (outcome === "complete") lock.settle.ack();
    else if (outcome === "reject") lock.settle.reject();
    else lock.settle.release();
    return true;
  }

  /** Messages locked now. */
  get size(): number {
    return this.#locks.size;
  }

  /** Releases every lock (the hub is stopping). */
  close(): void {
    for (const lock of this.#locks.values()) {
      clearTimeout(lock.timer);
      lock.settle.release();
    }
    this.#locks.clear();
  }
}
