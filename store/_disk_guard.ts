/**
 * Keeps the store's file system from filling up to the point where the store could no longer
 * commit an ack, a delete, a checkpoint or its own open. Private to store/.
 *
 * Two defences:
 * - **A floor of free space.** Before each message is admitted, the space it may take (twice its
 *   size: once in the WAL, once in the file at the checkpoint; a body in the body log once) is
 *   checked against the file system's free space (statfs, measured after each commit); below
 *   `minFreeBytes` new messages are refused. A drain gives its space back by an incremental
 *   vacuum, a WAL checkpoint and the removal of the body log's unused segments. The floor covers
 *   the WAL's growth up to a checkpoint and the writes of the acks and the vacuum that give space
 *   back.
 * - **A reserve file** (`<store>-reserve`, `reserveBytes` of zeros) for when something else
 *   fills the disk: when a commit fails for lack of space the reserve is deleted, which gives
 *   acks and checkpoints room to commit, and at open it gives the store room to start. It is
 *   written again once there is room.
 */
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "../core/log.ts";

/** Free space on the file system of `directory`, in bytes (for the unprivileged: bavail). */
export type FreeSpace = (directory: string) => number;

/** statfs(2) through node:fs. */
export const statfsFreeSpace: FreeSpace = (directory) => {
  const stats = statfsSync(directory);
  return Number(stats.bavail) * Number(stats.bsize);
};

/** Whether `error` says the file system (or SQLite's page cap) has no room. */
export function isNoSpace(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
  return /database or disk is full|No space left|ENOSPC|SQLITE_FULL/i.test(text);
}

/** Options of {@linkcode DiskGuard}. */
export interface DiskGuardOptions {
  minFreeBytes: number;
  reserveBytes: number;
  freeSpace: FreeSpace;
  log: Logger;
}

const MiB = 1024 * 1024;

/** The floor and the reserve of one store file. */
export class DiskGuard {
  readonly #path: string;
  readonly #directory: string;
  readonly #reservePath: string;
  readonly #options: DiskGuardOptions;
  /** Free space at the last measure. */
  #free = Infinity;
  /** Bytes admitted since that measure (twice each message's size). */
  #admitted = 0;
  #lastMeasureMs = -Infinity;
  /** Whether new messages are being refused (logged once per episode). */
  #refusing = false;
  #refusals = 0;
  #reserveHeld = false;

  constructor(path: string, options: DiskGuardOptions) {
    this.#path = path;
    this.#directory = dirname(path);
    this.#reservePath = `${path}-reserve`;
    this.#options = options;
  }

  /** Messages refused for lack of disk space since open. */
  get refusals(): number {
    return this.#refusals;
  }

  /** The floor of free space below which new messages are refused. */
  get minFreeBytes(): number {
    return this.#options.minFreeBytes;
  }

  /** Whether new messages are being refused for lack of disk space. */
  get refusing(): boolean {
    return this.#refusing;
  }

  /** Whether there should be a reserve file and it is not in place (given back, no room). */
  get reserveMissing(): boolean {
    return this.#options.reserveBytes > 0 && !this.#reserveHeld;
  }

  /** Measures the file system's free space (after a commit: what it wrote is on the disk). */
  measure(): void {
    let free: number;
    try {
      free = this.#options.freeSpace(this.#directory);
    } catch {
      return; // No statfs here: the reserve still protects acks and the open.
    }
    this.#free = free;
    this.#admitted = 0;
    this.#lastMeasureMs = performance.now();
    if (
      this.reserveMissing && free >= this.#options.minFreeBytes + 2 * this.#options.reserveBytes
    ) {
      this.writeReserve();
    }
  }

  /**
   * After a commit: measures again, unless the last measure is recent and the floor far (the
   * bytes admitted since are counted, so skipping a statfs only errs on the safe side).
   */
  measureAfterCommit(): void {
    const headroom = this.#free - this.#admitted - this.#options.minFreeBytes;
    if (headroom > 64 * MiB && performance.now() - this.#lastMeasureMs < 1000) return;
    this.measure();
  }

  /**
   * Whether a message of `sizeBytes` may be admitted (`loggedBytes` of it in the body log, written
   * once; the rest twice: the WAL, then the file); counts and logs a refusal.
   */
  admit(sizeBytes: number, loggedBytes = 0): boolean {
    if (this.#options.minFreeBytes === 0) return true;
    const needed = 2 * sizeBytes - loggedBytes;
    if (this.#free - this.#admitted - needed >= this.#options.minFreeBytes) {
      this.#admitted += needed;
      if (this.#refusing) this.#recovered();
      return true;
    }
    // Space may have come back since the last commit (a drain, a file deleted): measure again,
    // at most every 100 ms while refusing.
    if (performance.now() - this.#lastMeasureMs >= 100) {
      this.measure();
      if (this.#free - this.#admitted - needed >= this.#options.minFreeBytes) {
        this.#admitted += needed;
        if (this.#refusing) this.#recovered();
        return true;
      }
    }
    this.#refusals++;
    if (!this.#refusing) {
      this.#refusing = true;
      this.#options.log.warn(
        "disk nearly full: refusing new messages (acks, deliveries and deletes go on)",
        {
          path: this.#path,
          freeBytes: Math.max(0, this.#free - this.#admitted),
          minFreeBytes: this.#options.minFreeBytes,
          fix: `free space on the file system of ${this.#directory}, or let consumers drain ` +
            "their queues (delivered messages give their space back within seconds)",
        },
      );
    }
    return false;
  }

  #recovered(): void {
    this.#refusing = false;
    this.#options.log.info("disk space is back: accepting new messages", {
      path: this.#path,
      freeBytes: this.#free - this.#admitted,
      refused: this.#refusals,
    });
  }

  /** Writes the reserve file when missing; false when there is no room for it. */
  writeReserve(): boolean {
    const { reserveBytes } = this.#options;
    if (reserveBytes === 0) return false;
    try {
      const file = Deno.openSync(this.#reservePath, {
        create: true,
        write: true,
        truncate: true,
        mode: 0o600,
      });
      try {
        const zeros = new Uint8Array(Math.min(reserveBytes, MiB));
        for (let written = 0; written < reserveBytes;) {
          written += file.writeSync(
            zeros.subarray(0, Math.min(zeros.length, reserveBytes - written)),
          );
        }
      } finally {
        file.close();
      }
      this.#reserveHeld = true;
      return true;
    } catch {
      try {
        Deno.removeSync(this.#reservePath);
      } catch { /* never made */ }
      this.#reserveHeld = false;
      return false;
    }
  }

  /**
   * Deletes the reserve so that acks, deletes, checkpoints and the open can commit on a full
   * disk; true when it freed space. Logged, with what to do.
   */
  releaseReserve(reason: string): boolean {
    try {
      const { size } = Deno.statSync(this.#reservePath);
      Deno.removeSync(this.#reservePath);
      this.#reserveHeld = false;
      this.#options.log.warn("disk full: released the store's reserve", {
        path: this.#path,
        reason,
        releasedBytes: size,
        fix: `free space on the file system of ${this.#directory}`,
      });
      return size > 0;
    } catch {
      this.#reserveHeld = false;
      return false;
    }
  }

  /** The reserve's path, for `ledge check` and tests. */
  get reservePath(): string {
    return this.#reservePath;
  }

  /** Free space as last measured, less what was admitted since. */
  get freeBytes(): number {
    return this.#free - this.#admitted;
  }
}
