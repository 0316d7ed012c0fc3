/**
 * How a commit becomes durable: an fdatasync of the WAL where the sync policy runs it, or, after
 * one failed, a checkpoint of the whole WAL into the database file (core/wal_checkpoint.ts says
 * why a later sync of the WAL would not do). Private to store/.
 */
import type { DatabaseSync } from "node:sqlite";
import type { Logger } from "../core/log.ts";
import { WalSyncRecovery } from "../core/wal_checkpoint.ts";
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

/** Why the commits were not made durable: what failed (e.g. "sync of <file>-wal"), and how. */
export interface DurabilityFailure {
  what: string;
  error: unknown;
}

/** Makes the commits of a store durable, one sync (or checkpoint) for all made before it. */
export class WalDurability {
  readonly #o: WalDurabilityOptions;
  readonly #recovery: WalSyncRecovery;

  constructor(options: WalDurabilityOptions) {
    this.#o = options;
    this.#recovery = new WalSyncRecovery(options.db);
  }

  /**
   * Makes every commit so far durable, then calls `done` (with the failure when it could not): at
   * once on the loop (returning undefined), or when the pool's sync completes (the promise
   * returned). After a failed sync, each call checkpoints on the loop until one succeeds.
   */
  run(done: (failure?: DurabilityFailure) => void): Promise<void> | undefined {
    const { wal, path } = this.#o;
    if (this.#recovery.checkpointDue) {
      done(this.#checkpoint());
      return undefined;
    }
    return this.#o.syncs.run(() => wal.syncDataSync(), () => wal.syncData(), (error) => {
      if (error === undefined) return done();
      this.#recovery.syncFailed();
      done({ what: `sync of ${path}-wal`, error });
    });
  }

  /**
   * Makes every commit so far durable at once, on the loop, the same way: a sync of the WAL, or
   * after a failed one the checkpoint. Throws when it could not.
   */
  now(): void {
    if (this.#recovery.checkpointDue) {
      const failure = this.#checkpoint();
      if (failure !== undefined) throw failure.error;
      return;
    }
    try {
      this.#o.wal.syncDataSync();
    } catch (error) {
      this.#recovery.syncFailed();
      throw error;
    }
  }

  /** The checkpoint in place of the sync: undefined when done, else the failure. */
  #checkpoint(): DurabilityFailure | undefined {
    try {
      this.#recovery.checkpoint();
    } catch (error) {
      return { what: `checkpoint of ${this.#o.path}`, error };
    }
    this.#o.log.info("the WAL is checkpointed into the database after its failed sync", {
      path: this.#o.path,
    });
    return undefined;
  }
}
