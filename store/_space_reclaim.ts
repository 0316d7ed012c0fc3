/**
 * Giving the store's space back to the file system: the database's free pages (an incremental
 * vacuum and a checkpoint) and the body log's segments no stored message uses. Private to
 * store/.
 */
import type { DatabaseSync } from "node:sqlite";
import type { Logger } from "../core/log.ts";
import { type BodyLog, LOG_MAX_BYTES } from "./_body_log.ts";
import { reclaimFreePages } from "./_database.ts";
import { describe } from "./_describe.ts";
import type { DiskGuard } from "./_disk_guard.ts";
import type { StoreStatements } from "./_statements.ts";
import type { WalDurability } from "./_wal_durability.ts";

/** While refusing for lack of disk space, how often acks may trigger a vacuum (ms). */
const RECLAIM_INTERVAL_MS = 500;
/** How often, at most, a WAL sync is followed by a look for unused segments (ms). */
const SEGMENTS_INTERVAL_MS = 1000;

/** What {@linkcode SpaceReclaim} needs from the store. */
export interface SpaceReclaimOptions {
  path: string;
  db: DatabaseSync;
  sql: StoreStatements;
  /** How the commits become durable; undefined with `synchronous: "NORMAL"` (segments stay). */
  durability: WalDurability | undefined;
  bodies: BodyLog;
  log: Logger;
  guard: DiskGuard;
  /**
   * The highest seq committed: no later commit can still need its segment. Segments go only
   * once a WAL sync covers every commit so far (after one, or with one of their own).
   */
  committedSeq(): number;
  closed(): boolean;
}

/** The store's space reclaim, urgent or not. */
export class SpaceReclaim {
  readonly #o: SpaceReclaimOptions;
  #lastMs = -Infinity;
  #lastSegmentsMs = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #removals: Promise<void> = Promise.resolve();

  constructor(options: SpaceReclaimOptions) {
    this.#o = options;
  }

  /**
   * Gives free pages back (with `urgent`, as soon as there are a few, else once they are a
   * quarter of the file) and removes the segments no message uses, then measures the space.
   */
  now(urgent: boolean, maxSteps?: number): void {
    this.#lastMs = performance.now();
    try {
      const pages = reclaimFreePages(this.#o.db, urgent, maxSteps);
      if (pages > 0) this.#o.log.debug("reclaimed free pages", { path: this.#o.path, pages });
    } catch (error) {
      this.#o.log.warn("cannot give free pages back yet", {
        path: this.#o.path,
        error: describe(error),
      });
    }
    this.#removeDurable();
    this.#o.guard.measure();
  }

  /**
   * Removes the segments no stored message uses, after a WAL sync that makes every delete so
   * far durable (a power cut must not bring back a row whose body is gone), and measures the
   * space they gave back.
   */
  removeSegments(): void {
    if (this.#removeDurable() > 0) this.#o.guard.measure();
  }

  /**
   * After a WAL sync that covered every transaction committed so far: removes unused segments,
   * at most once a second, or after every sync once the segments take half of LOG_MAX_BYTES (a
   * stream of large messages fills that in a fraction of a second, and past it bodies go into
   * the database).
   */
  afterSync(): void {
    const now = performance.now();
    const pressed = this.#o.bodies.size >= LOG_MAX_BYTES / 2;
    if (!pressed && now - this.#lastSegmentsMs < SEGMENTS_INTERVAL_MS) return;
    this.#lastSegmentsMs = now;
    // Unlinked off the main thread; the space is measured after the next commit.
    for (const path of this.#o.bodies.drop(...this.#inUse())) {
      const removed = Deno.remove(path).catch((error) =>
        this.#o.log.warn("cannot remove an unused body log segment; the next open will", {
          path,
          error: describe(error),
        })
      );
      this.#removals = Promise.all([this.#removals, removed]).then(() => {});
    }
  }

  /** Settles once the segments {@linkcode afterSync} unlinks in the background are gone. */
  get removals(): Promise<void> {
    return this.#removals;
  }

  /** Whether a segment waits to be removed (for the quiet-time reclaim). */
  get segmentsWanted(): boolean {
    return this.#o.durability !== undefined && this.#o.bodies.unused(...this.#inUse()) > 0;
  }

  /**
   * While messages are refused for lack of space, or the reserve is given back, what a drain
   * frees goes back to the file system at once (rate-limited), so that new messages are
   * admitted again within seconds of the drain, without a restart.
   */
  afterAcks(): void {
    const { guard } = this.#o;
    if (this.#o.closed() || (!guard.refusing && !guard.reserveMissing)) return;
    const wait = this.#lastMs + RECLAIM_INTERVAL_MS - performance.now();
    if (wait <= 0) return this.now(true);
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#o.closed()) this.now(true);
    }, wait);
    Deno.unrefTimer(this.#timer);
  }

  /** Stops the pending reclaim. */
  cancel(): void {
    clearTimeout(this.#timer);
  }

  /** {@linkcode removeSegments} without the measure: how many segments went. */
  #removeDurable(): number {
    const { bodies, durability } = this.#o;
    if (durability === undefined || bodies.segments.length === 0) return 0;
    try {
      durability.now();
      const removed = bodies.reclaim(...this.#inUse());
      if (removed > 0) {
        this.#o.log.debug("removed unused body log segments", {
          path: bodies.directory,
          segments: removed,
        });
      }
      return removed;
    } catch (error) {
      this.#o.log.warn("cannot remove unused body log segments yet", {
        path: bodies.directory,
        error: describe(error),
      });
      return 0;
    }
  }

  #inUse(): [number, (first: number, end: number) => boolean] {
    const { sql } = this.#o;
    return [
      this.#o.committedSeq(),
      (first, end) => sql.loggedBetween.get(first, end) !== undefined,
    ];
  }
}
