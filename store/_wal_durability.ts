/**
 * How a commit becomes durable: an fdatasync of the WAL where the sync policy runs it, or, after
 * one failed, a checkpoint of the whole WAL into the database file (core/wal_checkpoint.ts says
 * why a later sync of the WAL would not do). Private to store/.
 */
import type { DatabaseSync } from "node:sqlite";
import type { Logger } from "../core/log.ts";
import { checkpointWholeWal } from "../core/wal_checkpoint.ts";
import type { SyncPolicy } from "./_sync_policy.ts";

/** What {@linkcode WalDurability} works on. */
export interface WalDurabilityOptions {
  db: DatabaseSync;
  /** The database's path (the WAL is `<path>-wal`). */
  path: string;
  wal: Deno.FsFile;
  syncs: SyncPolicy;
  log: Logger;
}

/** Makes the commits of a store durable, one sync (or checkpoint) for all made before it. */
export class WalDurability {
  readonly #o: WalDurabilityOptions;
  /** A WAL sync failed and no checkpoint has succeeded since. */
  #syncFailed = false;

  constructor(options: WalDurabilityOptions) {
    this.#o = options;
  }

  /**
   * Makes every commit so far durable, then calls `done` with the error and what failed when it
   * could not: at once on the loop (returning undefined), or when the pool's sync completes (the
   * promise returned). After a failed sync, each call checkpoints on the loop until one succeeds.
   */
  run(done: (error?: unknown, what?: string) => void): Promise<void> | undefined {
    const { wal, path } = this.#o;
    if (this.#syncFailed) {
      done(this.#checkpoint(), `checkpoint of ${path}`);
      return undefined;
    }
    return this.#o.syncs.run(() => wal.syncDataSync(), () => wal.syncData(), (error) => {
      if (error !== undefined) this.#syncFailed = true;
      done(error, `sync of ${path}-wal`);
    });
  }

  /** The checkpoint after a failed sync: undefined when done, else its error. */
  #checkpoint(): unknown {
    try {
      checkpointWholeWal(this.#o.db);
    } catch (error) {
      return error;
    }
    this.#syncFailed = false;
    this.#o.log.info("the WAL is checkpointed into the database after its failed sync", {
      path: this.#o.path,
    });
    return undefined;
  }
}
