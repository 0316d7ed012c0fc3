/**
 * Acks whose commit failed, committed alone: acks free space, so they are worth a transaction of
 * their own on a nearly full disk. Private to store/.
 */
import type { Logger } from "../core/log.ts";
import { describe } from "./_describe.ts";
import { type DiskGuard, isNoSpace } from "./_disk_guard.ts";
import type { AckedRows, EndpointState } from "./_endpoint_state.ts";

/** What {@linkcode AckRetry} needs from the committer. */
export interface AckRetryOptions {
  path: string;
  log: Logger;
  guard: DiskGuard;
  /** Runs `work` in one write transaction; rolls back and throws when it fails. */
  inTransaction(work: () => void): void;
  /** Deletes one queue row and its body reference; false when already gone. */
  deleteQueueRow(state: EndpointState, priority: number, seq: number): boolean;
  /** After acks committed: space may come back. */
  afterAcks(): void;
  /** Gives the rows back to the next ack commit, at least `delayMs` from now. */
  putBack(rows: AckedRows, delayMs: number): void;
  closed(): boolean;
}

/** Forgets the leases of rows whose delete is committed. */
export function forgetAcked({ states, seqs }: AckedRows): void {
  for (let i = 0; i < seqs.length; i++) states[i]!.leases.delete(seqs[i]!);
}

/** Commits failed acks alone, logging the failure once per episode. */
export class AckRetry {
  readonly #o: AckRetryOptions;
  #failureLogged = false;

  constructor(options: AckRetryOptions) {
    this.#o = options;
  }

  /**
   * A row at a time (which tolerates rows already gone), and once more at once if the first try
   * gave the reserve back; else the rows wait a second for the next ack commit.
   */
  retry(rows: AckedRows, ackWindowMs: number): void {
    const { states, priorities, seqs } = rows;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        this.#o.inTransaction(() => {
          for (let i = 0; i < seqs.length; i++) {
            this.#o.deleteQueueRow(states[i]!, priorities[i]!, seqs[i]!);
          }
        });
        forgetAcked(rows);
        if (this.#failureLogged) {
          this.#failureLogged = false;
          this.#o.log.info("acks commit again", { path: this.#o.path });
        }
        this.#o.afterAcks();
        return;
      } catch (error) {
        if (attempt === 0 && isNoSpace(error)) {
          if (this.#o.guard.releaseReserve("acks could not commit")) continue;
        }
        if (!this.#failureLogged) {
          this.#failureLogged = true;
          this.#o.log.error("cannot commit acks; will retry every second", {
            path: this.#o.path,
            error: describe(error),
          });
        }
        break;
      }
    }
    if (!this.#o.closed()) this.#o.putBack(rows, Math.max(ackWindowMs, 1000));
  }
}
