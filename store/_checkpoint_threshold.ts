/**
 * How far the WAL grows before a commit copies it into the database file: further while the
 * disk has plenty of room. Private to store/.
 */
import type { DatabaseSync } from "node:sqlite";
import type { DiskGuard } from "./_disk_guard.ts";

/**
 * WAL pages (4 KiB) before a checkpoint with room to spare: 16 MiB, the WAL's size limit
 * (`journal_size_limit`) already. A checkpoint copies the newest version of each page in the
 * WAL, and the pages of acked messages are freed and written again by later ones: the longer the
 * WAL, the more of those rewrites one copy covers. Measured with 16 KiB messages (store alone,
 * 4 alternated runs): disk writes per message 32.3 -> 23.3 KB, system CPU 51.6 -> 41.5 us.
 */
const ROOMY_PAGES = 4000;
/** SQLite's default, kept near the floor: a 16 MiB WAL would eat the room the floor keeps. */
const TIGHT_PAGES = 1000;
/** Free space beyond the floor from which the WAL may grow to {@linkcode ROOMY_PAGES}. */
const ROOMY_BYTES = 256 * 1024 * 1024;

/** Sets `wal_autocheckpoint` from the free space the disk guard last measured. */
export class CheckpointThreshold {
  readonly #db: DatabaseSync;
  readonly #guard: DiskGuard;
  #isRoomy: boolean | undefined;

  constructor(db: DatabaseSync, guard: DiskGuard) {
    this.#db = db;
    this.#guard = guard;
    this.update();
  }

  /** After a measure of the free space: changes the threshold when the room crossed the mark. */
  update(): void {
    const guard = this.#guard;
    const roomy = guard.freeBytes >= guard.minFreeBytes + ROOMY_BYTES;
    if (roomy === this.#isRoomy) return;
    this.#isRoomy = roomy;
    // exec, not a statement prepared once: SQLite applies this pragma when it compiles it.
    this.#db.exec(`PRAGMA wal_autocheckpoint = ${roomy ? ROOMY_PAGES : TIGHT_PAGES}`);
  }
}
