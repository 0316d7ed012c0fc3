/**
 * What follows a failed fdatasync of a SQLite WAL. Linux may mark the pages an fdatasync could
 * not write as clean, so a later fdatasync of the file succeeds without writing them. The frames
 * of a WAL are chained by checksums and recovery stops at the first one that does not match: a
 * lost frame would take every later frame with it, commits whose own sync succeeded included.
 * The pages are still in the page cache, though, and a checkpoint copies every committed page
 * into the database file with new writes, then syncs that file: the database no longer depends
 * on the WAL's earlier frames.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

/**
 * The rule for a database whose owner fdatasyncs its WAL: after a sync failed, what is committed
 * is made durable by a checkpoint of the whole WAL instead, until one succeeds.
 */
export class WalSyncRecovery {
  readonly #db: DatabaseSync;
  #due = false;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** A sync failed and no checkpoint has succeeded since: the next sync must be a checkpoint. */
  get checkpointDue(): boolean {
    return this.#due;
  }

  /** Notes that a sync of the WAL failed. */
  syncFailed(): void {
    this.#due = true;
  }

  /**
   * Copies every frame of the WAL into the database file and empties the WAL (a TRUNCATE
   * checkpoint: with `synchronous=NORMAL`, SQLite syncs the database file after the copy), on the
   * calling thread. Throws, and stays due, when the copy failed or could not take every frame.
   */
  checkpoint(): void {
    const result = this.#db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
    if (Number(result?.busy) !== 0) {
      throw new Error("the checkpoint could not copy every frame of the WAL (it is in use)");
    }
    this.#due = false;
  }
}
