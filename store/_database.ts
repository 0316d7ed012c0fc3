/**
 * Opening the store's SQLite file: permissions, pragmas, schema, and errors that name the file.
 * Private to store/.
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { describe } from "./_describe.ts";

/**
 * Schema version written to `PRAGMA user_version`; a newer file is refused, not rewritten.
 * Version 2: a message's body may be in the body log (_body_log.ts), its row holding where
 * (`logged`: the segment, by its first seq; `body`: offset and length in it).
 */
export const SCHEMA_VERSION = 2;
/**
 * What a file stays at while the ledge before this one must still open it (an update not
 * confirmed yet): version 1 with the `logged` column, which version 1 never reads, and no body
 * in the log.
 */
const COMPATIBLE_VERSION = 1;

/**
 * One row per message body (stored once however many endpoints it goes to), one row per
 * message-in-queue. `messages.refs` counts the queue rows still pointing at a body.
 * The queue's primary key is the delivery order, so `take` is one index range scan.
 * There is no index on `expires_at`: maintaining one cost a B-tree insert and delete per queue
 * row and its pages in the WAL on every commit, for a purge that runs once a minute; the purge
 * finds expired rows from the delivery order instead (see _purge.ts).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS endpoints(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS messages(
  seq INTEGER PRIMARY KEY,
  refs INTEGER NOT NULL,
  properties TEXT NOT NULL,
  body BLOB NOT NULL,
  logged INTEGER
);
CREATE TABLE IF NOT EXISTS queue(
  endpoint INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  size INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY(endpoint, priority, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(key, value) VALUES ('last_seq', 0);
`;

/**
 * Page size of a new file. A commit writes every page it changed whole into the WAL, and a commit
 * of a few small messages changes a few leaves (the bodies' last leaf, the last leaf of each queue
 * it adds to): smaller pages write fewer bytes. 8 KiB pages were chosen while 16 KiB bodies were
 * stored in pages (2-3 pages of 8 KiB against 5 of 4 KiB, each a WAL frame and an overflow page);
 * they go to the body log now (_body_log.ts), and only come back into pages while the log holds
 * LOG_MAX_BYTES. Measured with 4 KiB against 8 KiB pages, 256 B routed module to module (4 pairs,
 * alternated rounds): written to disk per message at 5,000 msg/s 8.1 -> 5.7 KB, at saturation
 * 2.95 -> 2.1-2.3 KB; p99 latency at 5,000 msg/s lower in 9 of 12 pairs; CPU per message the same
 * within this VM's noise at 256 B (25.5 against 26.0 us) and 16 KiB (84 against 83). 2 KiB pages
 * wrote 4.3 KB at 5,000 msg/s but cost more CPU there (median 96 against 86 us) and overflow a
 * body below the log's 4 KiB threshold.
 */
const PAGE_BYTES = 4096;
/** WAL bytes before SQLite checkpoints, whatever the page size (its default: 1000 4 KiB pages). */
const CHECKPOINT_WAL_BYTES = 1000 * 4096;

function pageBytes(db: DatabaseSync): number {
  return Number(db.prepare("PRAGMA page_size").get()?.page_size);
}

/** Options of {@linkcode openStoreDatabase}. */
export interface OpenDatabaseOptions {
  synchronous: "FULL" | "NORMAL";
  /** Hard cap on the file (SQLite `max_page_count`); SQLITE_FULL beyond it. */
  maxDatabaseBytes?: number;
  /** Page size of a new file (default {@linkcode PAGE_BYTES}). */
  pageBytes?: number;
  /** Keeps (or makes) the file at the version the ledge before this one opens. */
  compatible?: boolean;
}

/** Creates the file 0600 when missing so the WAL and SHM files SQLite derives from it are too. */
function createPrivateFile(path: string): void {
  try {
    Deno.openSync(path, { createNew: true, write: true, mode: 0o600 }).close();
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return;
    throw new Error(`Cannot open message store ${path}: ${describe(error)}`, { cause: error });
  }
}

/**
 * Makes the directory entry of `path` survive a power cut: a new store file, its WAL, the body
 * log's directory.
 */
export function syncDirectory(path: string): void {
  const directory = Deno.openSync(dirname(path), { read: true });
  try {
    directory.syncSync();
  } finally {
    directory.close();
  }
}

/**
 * Drops the expiry index files of earlier versions have. Not needed for correctness (it is only
 * maintained), so when it cannot be dropped (a full disk) it stays until a later open.
 */
function dropExpiryIndex(db: DatabaseSync): void {
  const found = db.prepare(
    "SELECT 1 AS found FROM sqlite_schema WHERE type = 'index' AND name = 'queue_expiry'",
  ).get();
  if (found === undefined) return;
  try {
    db.exec("DROP INDEX queue_expiry");
  } catch {
    if (db.isTransaction) db.exec("ROLLBACK");
  }
}

/** The file's schema version. */
export function schemaVersion(db: DatabaseSync): number {
  return Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
}

/** Marks the file as the current version (in the caller's transaction): bodies may be logged. */
export function setCurrentVersion(db: DatabaseSync): void {
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
}

/**
 * Brings the schema of a file at `version` up to `target` (a file of version 1 gets the `logged`
 * column, which version 1 never reads); a file already there is not written to.
 */
function upgradeSchema(db: DatabaseSync, version: number, target: number): void {
  const hasLogged = version > 0 && hasLoggedColumn(db);
  if (version >= target && hasLogged) return;
  db.exec("BEGIN IMMEDIATE");
  if (version === 1 && !hasLogged) db.exec("ALTER TABLE messages ADD COLUMN logged INTEGER");
  db.exec(SCHEMA);
  db.exec(`PRAGMA user_version = ${Math.max(version, target)}`);
  db.exec("COMMIT");
}

function hasLoggedColumn(db: DatabaseSync): boolean {
  const sql = "SELECT 1 AS found FROM pragma_table_info('messages') WHERE name = 'logged'";
  return db.prepare(sql).get() !== undefined;
}

/**
 * Opens (creating when missing) the store file at `path` in WAL mode with the schema in place.
 * Throws an Error naming the file when it cannot be opened, is not a database, is corrupt, or
 * has a newer schema; a bad file is never deleted or rewritten.
 */
export function openStoreDatabase(path: string, options: OpenDatabaseOptions): DatabaseSync {
  createPrivateFile(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new Error(`Cannot open message store ${path}: ${describe(error)}`, { cause: error });
  }
  try {
    // Everything is checked read-only before the first write, so a file that is not ours, or is
    // damaged, is left byte for byte as it was.
    // The store keeps queue totals and leases in memory, so it must be the file's only user:
    // the first read takes a lock that is held until close, and a second opener fails at once.
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    let version: number;
    try {
      version = schemaVersion(db);
    } catch (error) {
      if (!/database is locked/.test(describe(error))) throw error;
      throw new Error("database is locked: another process (or store) has it open", {
        cause: error,
      });
    }
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `schema version ${version} is newer than this ledge supports (${SCHEMA_VERSION})`,
      );
    }
    const tables = Number(db.prepare("SELECT count(*) AS n FROM sqlite_schema").get()?.n);
    if (version === 0 && tables > 0) {
      throw new Error("it is a SQLite database but not a message store");
    }
    if (version > 0) {
      // Reads every page, so a damaged file fails here, at open, rather than on some later take.
      const check = db.prepare("PRAGMA quick_check(1)").get()?.quick_check;
      if (check !== "ok") throw new Error(`integrity check failed: ${String(check)}`);
    }
    // A new file's pages are 4 KiB unless asked (an existing file keeps the size it was made with).
    // Set first: after auto_vacuum the size is fixed.
    if (version === 0) db.exec(`PRAGMA page_size = ${options.pageBytes ?? PAGE_BYTES}`);
    // auto_vacuum only takes effect before the first table exists; it lets a purge give pages
    // back to the file system with incremental_vacuum instead of a full VACUUM.
    if (version === 0) db.exec("PRAGMA auto_vacuum = INCREMENTAL");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${options.synchronous}`);
    // After a checkpoint the WAL is truncated back to this size instead of staying at its peak.
    // Not lower: a WAL cut below its usual ~4.5 MiB grows again every cycle, and those fsyncs
    // (with the file's size to write) tripled the store's p99 enqueue latency, measured. A
    // nearly full disk gets its WAL truncated to nothing by the reclaim's checkpoints.
    db.exec("PRAGMA journal_size_limit = 16777216");
    const pageSize = pageBytes(db);
    db.exec(`PRAGMA wal_autocheckpoint = ${Math.ceil(CHECKPOINT_WAL_BYTES / pageSize)}`);
    // A file with the schema in place is opened without a write, so it opens on a full disk.
    if (version > 0) dropExpiryIndex(db);
    upgradeSchema(db, version, options.compatible ? COMPATIBLE_VERSION : SCHEMA_VERSION);
    if (options.maxDatabaseBytes !== undefined) {
      const pages = Math.max(1, Math.floor(options.maxDatabaseBytes / pageSize));
      db.exec(`PRAGMA max_page_count = ${pages}`);
    }
    // The file (when new) and the WAL (created anew on every open) are directory entries; an
    // fsync of the WAL alone does not make its name durable.
    syncDirectory(path);
    return db;
  } catch (error) {
    if (db.isOpen) {
      try {
        if (db.isTransaction) db.exec("ROLLBACK");
      } finally {
        db.close();
      }
    }
    throw new Error(`Cannot open message store ${path}: ${describe(error)}`, { cause: error });
  }
}

/** Bytes of pages one step of the vacuum moves; a checkpoint between steps keeps the WAL small. */
const VACUUM_STEP_BYTES = 1024 * 1024;
/** Steps one reclaim takes at most (64 MiB), so it never stalls the loop long. */
const VACUUM_MAX_STEPS = 64;

/**
 * Whether free pages are worth giving back: a quarter of the file (and at least 1 MiB), or with
 * `urgent` (the disk is nearly full) 16 of them.
 */
export function reclaimWanted(db: DatabaseSync, urgent: boolean): boolean {
  const free = Number(db.prepare("PRAGMA freelist_count").get()?.freelist_count ?? 0);
  if (urgent) return free >= 16;
  const total = Number(db.prepare("PRAGMA page_count").get()?.page_count ?? 0);
  return free * pageBytes(db) >= VACUUM_STEP_BYTES && free * 4 >= total;
}

/**
 * Gives free pages back to the file system: incremental vacuum, then a checkpoint that
 * truncates the WAL so the file really shrinks, in steps of 1 MiB so that the WAL never needs
 * more than that on a nearly full disk, at most `maxSteps` of them, when
 * {@linkcode reclaimWanted}. Returns the pages given back.
 */
export function reclaimFreePages(
  db: DatabaseSync,
  urgent = false,
  maxSteps = VACUUM_MAX_STEPS,
): number {
  const freeCount = db.prepare("PRAGMA freelist_count");
  const free = () => Number(freeCount.get()?.freelist_count ?? 0);
  const before = free();
  if (!reclaimWanted(db, urgent)) return 0;
  const stepPages = Math.max(1, Math.floor(VACUUM_STEP_BYTES / pageBytes(db)));
  const step = db.prepare(`PRAGMA incremental_vacuum(${stepPages})`);
  for (let i = 0; i < maxSteps; i++) {
    // Each step of this pragma frees one page, and exec() steps only once: iterate it through.
    for (const _ of step.iterate()) { /* one page per row */ }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    if (free() === 0) break;
  }
  return before - free();
}
