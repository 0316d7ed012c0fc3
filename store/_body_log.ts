/**
 * Message bodies kept out of SQLite: appended to segment files in a directory beside the store's
 * database (`<db>-bodies/<first seq>.log`), each segment the bodies of a run of seqs in order.
 * A 16 KiB body made durable through SQLite cost 40.5-42 us of CPU (insert and delete of 8 KiB
 * pages, their WAL frames, the checkpoint's copy); appended to a file and fdatasynced, 7-10 us
 * (groups of 50, store alone, 3 runs). Private to store/: the row keeps a reference to its body
 * (_body_ref.ts), and its commit waits for {@linkcode BodyLog.sync} (or `syncNow`), so a durable
 * row always has a durable body (see Committer).
 */
import { syncDirectory } from "./_database.ts";
import type { BodyRef } from "./_body_ref.ts";
import { describe } from "./_describe.ts";

/**
 * Where {@linkcode BodyLog.append} put a body: its segment (the first seq of its file, which the
 * row keeps as `logged`) and its place in it.
 */
export interface LoggedBody extends BodyRef {
  segment: number;
}

/** Bodies from this size on go to the body log instead of SQLite's pages. */
export const LOGGED_BODY_BYTES = 4096;
/**
 * Bytes of segments past which large bodies go into the database again, until segments are
 * removed. A segment is removed only once none of its messages is stored, so one message a slow
 * consumer holds keeps its whole segment: this bounds what such messages can pin.
 */
export const LOG_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Bytes of a segment after which the next append starts a new one. A segment's space comes back
 * only once none of its messages is stored, so it is small: on a nearly full disk, the first
 * acks of a drain free whole segments.
 */
const SEGMENT_BYTES = 4 * 1024 * 1024;
const SEGMENT_NAME = /^(\d+)\.log$/;
/**
 * Unused full segments kept to be written over by the next ones, as SQLite reuses its WAL: an
 * fdatasync of blocks the file already has writes no metadata, and no unlink or block
 * allocation is paid per segment.
 */
const SPARE_SEGMENTS = 2;

/** One sync of the body log: what it covers, the segments and whether the directory is in it. */
interface SyncRound {
  covered: number;
  segments: Segment[];
  directory: boolean;
}

/** A segment: its first seq, and its append handle while it takes or awaits a sync. */
interface Segment {
  first: number;
  path: string;
  /** Open while appends go to it or its last appends are not synced yet. */
  writer: Deno.FsFile | undefined;
  /** Bytes in the file (where the next append goes). */
  bytes: number;
  /** Appended since the segment's last sync began. */
  dirty: boolean;
  reader: Deno.FsFile | undefined;
}

/** Closes a segment's handles (a writer's unsynced appends stay as the OS has them). */
function closeFiles(segment: Segment): void {
  segment.writer?.close();
  segment.reader?.close();
  segment.writer = segment.reader = undefined;
}

function readDirectoryIfThere(path: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(path)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new Error(`Cannot read the body log ${path}: ${describe(error)}`, {
      cause: error,
    });
  }
}

/** The segments of a store, in seq order; the last one takes the appends. */
export class BodyLog {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #segments: Segment[] = [];
  /** The segment appends go to; undefined until the first append (and after a failed one). */
  #current: Segment | undefined;
  #lastSeq = 0;
  /** A segment was created since the last sync: the directory is synced with the segments. */
  #directoryDirty = false;
  /** Files of unused segments to write the next segments over (see SPARE_SEGMENTS). */
  #spares: string[] = [];
  /** The segments' directory, open once the first segment of this open is made. */
  #directory: Deno.FsFile | undefined;
  /** Bytes appended since the open: a position that only grows. */
  written = 0;
  /** What {@linkcode written} was when the last completed sync began: what is durable. */
  synced = 0;
  /** Bytes in the segment files. */
  size = 0;

  /**
   * Opens the log of the database at `databasePath` (its directory is made by the first append).
   * Appends after an open always start a new segment: whatever the last run left at a
   * segment's end is never written after.
   */
  constructor(databasePath: string, options: { segmentBytes?: number } = {}) {
    this.#dir = `${databasePath}-bodies`;
    this.#segmentBytes = options.segmentBytes ?? SEGMENT_BYTES;
    const found: Segment[] = [];
    for (const entry of readDirectoryIfThere(this.#dir)) {
      const match = entry.isFile ? SEGMENT_NAME.exec(entry.name) : null;
      if (!match) continue;
      const path = `${this.#dir}/${entry.name}`;
      found.push({
        first: Number(match[1]),
        path,
        writer: undefined,
        bytes: Deno.statSync(path).size,
        dirty: false,
        reader: undefined,
      });
    }
    this.#segments.push(...found.sort((a, b) => a.first - b.first));
    for (const segment of found) this.size += segment.bytes;
    this.#lastSeq = this.#segments.at(-1)?.first ?? 0;
  }

  /** The directory of the segment files. */
  get directory(): string {
    return this.#dir;
  }

  /** The segment files, oldest first (their first seqs). */
  get segments(): number[] {
    return this.#segments.map((segment) => segment.first);
  }

  /**
   * Appends `body` as the body of `seq` (greater than every seq appended before). When the write
   * fails (a full disk), the segment takes no more appends and it throws an error naming the
   * file: the caller refuses the message.
   */
  append(seq: number, body: Uint8Array): LoggedBody {
    if (!(seq > this.#lastSeq)) {
      throw new RangeError(`seq ${seq} is not after the last one logged (${this.#lastSeq})`);
    }
    let segment = this.#current;
    if (segment === undefined || segment.bytes >= this.#segmentBytes) {
      segment = this.#startSegment(seq);
    }
    const offset = segment.bytes;
    try {
      let written = 0;
      while (written < body.byteLength) {
        written += segment.writer!.writeSync(body.subarray(written));
      }
    } catch (error) {
      // What part of the body reached the file is unknown: no append goes after it.
      this.#current = undefined;
      throw new Error(`append to ${segment.path} failed: ${describe(error)}`, {
        cause: error,
      });
    }
    segment.bytes += body.byteLength;
    segment.dirty = true;
    this.written += body.byteLength;
    this.size += body.byteLength;
    this.#lastSeq = seq;
    return { segment: segment.first, offset, length: body.byteLength };
  }

  /**
   * Makes every body appended before the call durable (an fdatasync of each segment written to
   * since its last sync), and resolves with {@linkcode written} as it was; a segment no longer
   * appended to is closed once synced. Rejects when a sync fails: what was appended since the
   * last sync may be lost, and the caller must refuse it.
   */
  async sync(): Promise<number> {
    const round = this.#beginSync();
    try {
      await Promise.all([
        ...round.segments.map((segment) => segment.writer!.syncData()),
        // The new segments' names survive a power cut with the directory's sync.
        ...(round.directory ? [this.#directory!.sync()] : []),
      ]);
    } catch (error) {
      throw this.#failedSync(round, error);
    }
    return this.#endSync(round);
  }

  /** {@linkcode sync} on the calling thread: returns, or throws, once the syncs are done. */
  syncNow(): number {
    const round = this.#beginSync();
    try {
      for (const segment of round.segments) segment.writer!.syncDataSync();
      if (round.directory) this.#directory!.syncSync();
    } catch (error) {
      throw this.#failedSync(round, error);
    }
    return this.#endSync(round);
  }

  #beginSync(): SyncRound {
    const round = {
      covered: this.written,
      segments: this.#segments.filter((segment) => segment.dirty),
      directory: this.#directoryDirty,
    };
    for (const segment of round.segments) segment.dirty = false;
    this.#directoryDirty = false;
    return round;
  }

  #failedSync(round: SyncRound, error: unknown): Error {
    this.#current = undefined;
    if (round.directory) this.#directoryDirty = true;
    return new Error(`sync of the body log ${this.#dir} failed: ${describe(error)}`, {
      cause: error,
    });
  }

  #endSync(round: SyncRound): number {
    this.synced = Math.max(this.synced, round.covered);
    for (const segment of round.segments) {
      if (segment !== this.#current && !segment.dirty) {
        segment.writer?.close();
        segment.writer = undefined;
      }
    }
    return round.covered;
  }

  /**
   * The body at `ref` in the segment whose first seq is `segment`, or undefined when that segment
   * or those bytes are missing (never bytes of another segment).
   */
  read(segment: number, ref: BodyRef): Uint8Array | undefined {
    const found = this.#segmentStarting(segment);
    if (found === undefined || ref.offset + ref.length > found.bytes) return undefined;
    try {
      found.reader ??= Deno.openSync(found.path, { read: true });
      found.reader.seekSync(ref.offset, Deno.SeekMode.Start);
      const body = new Uint8Array(ref.length);
      let read = 0;
      while (read < ref.length) {
        const count = found.reader.readSync(body.subarray(read));
        if (count === null) return undefined;
        read += count;
      }
      return body;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  /**
   * Removes each segment whose seqs are all at most `durableSeq` (so none belongs to a commit
   * still to come) and which `inUse(first, end)` (first inclusive, end exclusive) says no
   * stored message has; returns how many went. The one taking appends goes too when unused
   * (the next append starts another), so a drained store keeps no body bytes. The caller
   * answers from what is durable: a delete that a power cut could undo must not free a segment.
   */
  reclaim(durableSeq: number, inUse: (first: number, end: number) => boolean): number {
    const before = this.#segments.length;
    for (const path of [...this.drop(durableSeq, inUse), ...this.releaseSpares()]) {
      Deno.removeSync(path);
    }
    return before - this.#segments.length;
  }

  /** Forgets the spare segment files kept for reuse and returns them, for the caller to remove. */
  releaseSpares(): string[] {
    const spares = this.#spares;
    this.#spares = [];
    return spares;
  }

  /**
   * {@linkcode reclaim} without the unlinks: forgets the segments, keeps up to SPARE_SEGMENTS
   * full ones to write over, and returns the other files, for the caller to remove (off the
   * main thread: a 4 MiB unlink cost a quarter of the store's main thread with 16 KiB messages,
   * measured). A file left behind is a segment no row uses at the next open, and goes then.
   */
  drop(durableSeq: number, inUse: (first: number, end: number) => boolean): string[] {
    const unused = this.#unused(durableSeq, inUse);
    for (const segment of unused) {
      if (segment === this.#current) this.#current = undefined;
      closeFiles(segment);
      this.size -= segment.bytes;
      this.#segments.splice(this.#segments.indexOf(segment), 1);
    }
    const paths: string[] = [];
    for (const segment of unused) {
      const full = segment.bytes >= this.#segmentBytes;
      if (full && this.#spares.length < SPARE_SEGMENTS) this.#spares.push(segment.path);
      else paths.push(segment.path);
    }
    return paths;
  }

  /** How many segments {@linkcode reclaim} would remove now. */
  unused(durableSeq: number, inUse: (first: number, end: number) => boolean): number {
    return this.#unused(durableSeq, inUse).length;
  }

  #unused(durableSeq: number, inUse: (first: number, end: number) => boolean): Segment[] {
    const unused: Segment[] = [];
    for (let i = 0; i < this.#segments.length; i++) {
      const segment = this.#segments[i]!;
      const next = this.#segments[i + 1];
      const lastSeq = next === undefined ? this.#lastSeq : next.first - 1;
      if (segment.dirty || lastSeq > durableSeq) continue;
      if (!inUse(segment.first, next?.first ?? Number.MAX_SAFE_INTEGER)) unused.push(segment);
    }
    return unused;
  }

  /** Closes every file (appends not synced yet stay as the OS has them). */
  close(): void {
    for (const segment of this.#segments) closeFiles(segment);
    this.#current = undefined;
    this.#directory?.close();
    this.#directory = undefined;
  }

  #startSegment(seq: number): Segment {
    this.#directory ??= this.#makeDirectory();
    const path = `${this.#dir}/${seq}.log`;
    const spare = this.#spares.pop();
    let writer: Deno.FsFile;
    try {
      if (spare === undefined) {
        writer = Deno.openSync(path, { createNew: true, write: true, append: true, mode: 0o600 });
      } else {
        // Renamed, durably with the next sync's directory sync, and written over from the start.
        Deno.renameSync(spare, path);
        writer = Deno.openSync(path, { write: true });
      }
    } catch (error) {
      throw new Error(`cannot create ${path}: ${describe(error)}`, { cause: error });
    }
    this.#directoryDirty = true;
    const segment: Segment = {
      first: seq,
      path,
      writer,
      bytes: 0,
      dirty: false,
      reader: undefined,
    };
    this.#segments.push(segment);
    this.#current = segment;
    return segment;
  }

  /**
   * Makes the segments' directory if missing (its own entry synced at once: once per open) and
   * opens it, for the syncs that make the segments' names durable.
   */
  #makeDirectory(): Deno.FsFile {
    try {
      Deno.mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      syncDirectory(this.#dir);
      return Deno.openSync(this.#dir, { read: true });
    } catch (error) {
      throw new Error(`cannot make ${this.#dir}: ${describe(error)}`, { cause: error });
    }
  }

  /** The segment whose first seq is `first` (the segments are in seq order), if it is there. */
  #segmentStarting(first: number): Segment | undefined {
    let low = 0;
    let high = this.#segments.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const segment = this.#segments[middle]!;
      if (segment.first === first) return segment;
      if (segment.first < first) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }
}
