/**
 * Twins, persisted: one row per identity (`device` or `device/module`) with desired and reported
 * properties and their `$version`s, in `<state>/hub/twins.db` (node:sqlite, WAL). A full disk
 * makes a write fail with an error naming the file, never a half-write; the file opens on a full
 * disk.
 *
 * A write commits at once (the cache and the file agree) and is made durable by an fdatasync of
 * the WAL on Deno's pool, shared by the writes made meanwhile; whoever answers a client waits for
 * {@linkcode TwinStore.durable}. SQLite's `synchronous=FULL` synced in the commit, on the event
 * loop: every twin write stalled every connection for one sync (0.5 ms on the CI disk, tens of
 * milliseconds on an SD card). After a failed sync, the next one is a checkpoint of the WAL into
 * the database file.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { CoalescedWrites } from "../core/coalesced_writes.ts";
import { createPrivateFile } from "../core/state_dir.ts";
import { WalSyncRecovery } from "../core/wal_checkpoint.ts";
import { checkTwinSize, diffProperties, mergePatch, type TwinProperties } from "../iothub/mod.ts";

/** One identity's twin. */
export interface Twin {
  desired: TwinProperties;
  desiredVersion: number;
  reported: TwinProperties;
  reportedVersion: number;
}

/** What a desired change produced: the patch to push (with `$version`), or none. */
export interface DesiredChange {
  twin: Twin;
  /** The patch subscribers receive, including `$version`; undefined when nothing changed. */
  patch: TwinProperties | undefined;
}

/** Persisted twins. */
export interface TwinStore {
  get(key: string): Twin;
  /** Applies a reported patch; returns the new reported version. @throws {TwinPatchError} */
  patchReported(key: string, patch: TwinProperties): number;
  /** Replaces the reported properties (used for `$edgeAgent`). */
  replaceReported(key: string, reported: TwinProperties): number;
  /** Applies a desired patch. @throws {TwinPatchError} */
  patchDesired(key: string, patch: TwinProperties): DesiredChange;
  /** Replaces the desired properties (from a deployment). @throws {TwinPatchError} */
  replaceDesired(key: string, desired: TwinProperties): DesiredChange;
  keys(): string[];
  /**
   * Resolves once every write made before the call is on disk; rejects, naming the file, when
   * the sync that was to cover them failed.
   */
  durable(): Promise<void>;
  /** Closes the file once the writes made so far are synced (or their sync failed). */
  close(): Promise<void>;
}

/** How the WAL is synced: `file.syncData()` unless a test holds it. */
export type SyncWal = (file: Deno.FsFile) => Promise<void>;

function emptyTwin(): Twin {
  return { desired: {}, desiredVersion: 1, reported: {}, reportedVersion: 1 };
}

interface TwinRow {
  desired: string;
  desired_version: number;
  reported: string;
  reported_version: number;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The twins in SQLite, with a cache in front. A write is one statement (atomic): when it cannot
 * happen (a full disk) it throws an Error naming the file, and neither the file nor the cache
 * changed.
 */
class SqliteTwinStore implements TwinStore {
  readonly #path: string;
  readonly #db: DatabaseSync;
  readonly #select: StatementSync;
  readonly #upsert: StatementSync;
  readonly #cache = new Map<string, Twin>();
  readonly #syncWal: SyncWal;
  readonly #syncs = new CoalescedWrites(() => this.#sync());
  /** Opened at the first sync (SQLite creates it at the first write). */
  #wal: Promise<Deno.FsFile> | undefined;
  /** The sync covering the last write. */
  #durable: Promise<void> = Promise.resolve();
  /** After a failed sync, the next is a checkpoint (core/wal_checkpoint.ts). */
  readonly #recovery: WalSyncRecovery;

  constructor(path: string, db: DatabaseSync, syncWal: SyncWal) {
    this.#path = path;
    this.#db = db;
    this.#syncWal = syncWal;
    this.#recovery = new WalSyncRecovery(db);
    this.#select = db.prepare(
      "SELECT desired, desired_version, reported, reported_version FROM twins WHERE key = ?",
    );
    this.#upsert = db.prepare(
      `INSERT INTO twins (key, desired, desired_version, reported, reported_version)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET desired = excluded.desired,
       desired_version = excluded.desired_version, reported = excluded.reported,
       reported_version = excluded.reported_version`,
    );
  }

  get(key: string): Twin {
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const row = this.#select.get(key) as TwinRow | undefined;
    const twin = row
      ? {
        desired: JSON.parse(row.desired),
        desiredVersion: Number(row.desired_version),
        reported: JSON.parse(row.reported),
        reportedVersion: Number(row.reported_version),
      }
      : emptyTwin();
    this.#cache.set(key, twin);
    return twin;
  }

  patchReported(key: string, patch: TwinProperties): number {
    return this.#setReported(key, mergePatch(this.get(key).reported, patch));
  }

  replaceReported(key: string, reported: TwinProperties): number {
    return this.#setReported(key, mergePatch({}, reported));
  }

  patchDesired(key: string, patch: TwinProperties): DesiredChange {
    return this.#setDesired(key, mergePatch(this.get(key).desired, patch));
  }

  replaceDesired(key: string, desired: TwinProperties): DesiredChange {
    return this.#setDesired(key, mergePatch({}, desired));
  }

  keys(): string[] {
    const rows = this.#db.prepare("SELECT key FROM twins").all() as { key: string }[];
    return [...new Set([...rows.map((row) => row.key), ...this.#cache.keys()])];
  }

  durable(): Promise<void> {
    return this.#durable;
  }

  async close(): Promise<void> {
    await this.#durable.catch(() => {});
    this.#db.close();
    (await this.#wal?.catch(() => undefined))?.close();
  }

  async #sync(): Promise<void> {
    try {
      if (this.#recovery.checkpointDue) return this.#recovery.checkpoint();
      // A failed open is tried again at the next sync.
      this.#wal ??= Deno.open(`${this.#path}-wal`, { read: true, write: true }).catch((error) => {
        this.#wal = undefined;
        throw error;
      });
      await this.#syncWal(await this.#wal);
    } catch (error) {
      this.#recovery.syncFailed();
      throw new Error(`Cannot sync the twins in ${this.#path}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  #save(key: string, twin: Twin): void {
    try {
      this.#upsert.run(
        key,
        JSON.stringify(twin.desired),
        twin.desiredVersion,
        JSON.stringify(twin.reported),
        twin.reportedVersion,
      );
    } catch (error) {
      throw new Error(`Cannot save the twin of ${key} in ${this.#path}: ${describe(error)}`, {
        cause: error,
      });
    }
    this.#cache.set(key, twin);
    // Started now, shared with the writes until it starts; a failure goes to who waits for it.
    this.#durable = this.#syncs.request();
    this.#durable.catch(() => {});
  }

  #setDesired(key: string, desired: TwinProperties): DesiredChange {
    checkTwinSize("desired", desired);
    const twin = this.get(key);
    const patch = diffProperties(twin.desired, desired);
    if (Object.keys(patch).length === 0) return { twin, patch: undefined };
    const next = { ...twin, desired, desiredVersion: twin.desiredVersion + 1 };
    this.#save(key, next);
    return { twin: next, patch: { ...patch, $version: next.desiredVersion } };
  }

  #setReported(key: string, reported: TwinProperties): number {
    checkTwinSize("reported", reported);
    const twin = this.get(key);
    const next = { ...twin, reported, reportedVersion: twin.reportedVersion + 1 };
    this.#save(key, next);
    return next.reportedVersion;
  }
}

/**
 * Opens (or creates) the twin database at `path`. The hub is its only user, so it holds the file
 * exclusively: SQLite keeps the WAL index in memory instead of a `-shm` file, and a file with
 * its table in place opens without a write, on a full disk too.
 *
 * @throws naming the file when it cannot be opened.
 */
export function openTwinStore(
  path: string,
  syncWal: SyncWal = (file) => file.syncData(),
): TwinStore {
  let db: DatabaseSync | undefined;
  try {
    createPrivateFile(path);
    db = new DatabaseSync(path);
    db.exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    db.exec(`CREATE TABLE IF NOT EXISTS twins (
      key TEXT PRIMARY KEY, desired TEXT NOT NULL, desired_version INTEGER NOT NULL,
      reported TEXT NOT NULL, reported_version INTEGER NOT NULL)`);
    return new SqliteTwinStore(path, db, syncWal);
  } catch (cause) {
    db?.close();
    throw new Error(`Cannot open twin store ${path}: ${describe(cause)}`, { cause });
  }
}
