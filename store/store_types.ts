/**
 * The message store's interface and the shapes it takes and returns; the implementation is
 * `openMessageStore` in message_store.ts.
 */
import type { HistogramSnapshot } from "../core/histogram.ts";
import type { Logger } from "../core/log.ts";
import type { IncomingMessage, StoredMessage } from "./stored_message.ts";

/** Where a message goes: one endpoint queue, its priority there and its time-to-live. */
export interface EnqueueTarget {
  /** Endpoint key, e.g. `upstream` or `module/filter/input1`. */
  endpoint: string;
  /** Lower is delivered first: route priorities 0..9, 2000000000 for routes without one. */
  priority: number;
  /** Seconds until the message expires in this queue; negative means never. */
  ttlSeconds: number;
}

/** A message handed out by {@linkcode MessageStore.take}. */
export interface QueuedMessage {
  /** The queue it came from. */
  endpoint: string;
  /** Identifies the message in `ack` and `release`; increases with arrival, across restarts. */
  seq: number;
  /** Its priority in this queue. */
  priority: number;
  /** When it was enqueued (ms since the epoch). */
  enqueuedAtMs: number;
  /** When it expires (ms since the epoch), or null for never. */
  expiresAtMs: number | null;
  /** Body and properties, as enqueued; read-only (shared with the store and other endpoints). */
  message: StoredMessage;
}

/** Depth and drops of one endpoint queue. */
export interface QueueStats {
  /** The endpoint key. */
  endpoint: string;
  /** Messages in the queue, in-flight ones included, acked ones not. */
  count: number;
  /** Their bytes (body plus encoded properties), what `maxSizeBytes` bounds. */
  bytes: number;
  /** Age of the oldest message, or null when empty. */
  oldestAgeSeconds: number | null;
  /**
   * Messages dropped since the store was opened: expired by TTL, refused as the queue was full,
   * or lost with their body (gone from the body log from outside).
   */
  dropped: { expired: number; full: number; lost: number };
}

/** What the store has committed since it was opened, for metrics (mean batch size). */
export interface CommitCounters {
  /** Transactions that carried enqueues (each one fsync with `synchronous: "FULL"`). */
  commits: number;
  /** Messages those transactions made durable. */
  messages: number;
  /** Transactions that failed (their enqueues were rejected). */
  failed: number;
  /** Messages refused because the disk was down to `minFreeBytes` (not in `dropped.full`). */
  refusedDiskFull: number;
  /** Where the fdatasyncs ran (the WAL's and the body log's), and how long they took. */
  syncs: SyncStats;
}

/**
 * Where the store's fdatasyncs ran: on the event loop while the disk answers fast, else on a
 * thread of Deno's pool.
 */
export interface SyncCounters {
  onLoop: number;
  onPool: number;
  /** Times the loop's syncs were too slow and went to the pool for a period. */
  toPool: number;
}

/** {@linkcode SyncCounters} and how long the syncs took, in seconds. */
export interface SyncStats extends SyncCounters {
  /**
   * From the call to its return on the loop, or to its completion seen by the loop on the pool
   * (buckets {@linkcode SYNC_SECONDS_BOUNDS}).
   */
  seconds: HistogramSnapshot;
}

/**
 * Bucket bounds of the syncs' durations (s): 100 us (a fast SSD) to 5 s (a failing SD card), in
 * steps of 1-2-5, fine enough to tell the few tenths of a millisecond of a good disk apart.
 */
export const SYNC_SECONDS_BOUNDS: readonly number[] = [
  0.0001,
  0.0002,
  0.0005,
  0.001,
  0.002,
  0.005,
  0.01,
  0.02,
  0.05,
  0.1,
  0.2,
  0.5,
  1,
  2,
  5,
];

/** Options of `openMessageStore`. */
export interface StoreOptions {
  /** Bound of each endpoint queue in bytes (body plus encoded properties). */
  maxSizeBytes: number;
  /** Clock in ms since the epoch, for tests. */
  now?: () => number;
  /** Where drops, refusals and failed commits are logged. */
  logger?: Logger;
  /**
   * `FULL` (default) survives a power cut: the WAL is fsynced after each commit, before its
   * enqueues resolve; `NORMAL` survives only a crash of the process.
   */
  synchronous?: "FULL" | "NORMAL";
  /**
   * How long an enqueue waits for others to share its commit (ms). 0 (default) commits at the
   * next turn of the event loop: everything that arrived meanwhile, including during the previous
   * commit's fsync, shares one transaction.
   */
  commitWindowMs?: number;
  /** How long acks wait to be deleted with other writes (ms); default 20. */
  ackWindowMs?: number;
  /** Most messages in one commit; default 10000. */
  maxBatchMessages?: number;
  /** Most message bytes in one commit; default 16 MiB. */
  maxBatchBytes?: number;
  /** Period of the expiry purge (ms); 0 disables it. Default 60000. */
  purgeIntervalMs?: number;
  /** Hard cap on the database file; commits beyond it fail like on a full disk. */
  maxDatabaseBytes?: number;
  /**
   * Page size of a new file: a power of two from 512 to 65536, default 4096. A file that exists
   * keeps the size it was made with.
   */
  pageBytes?: number;
  /**
   * Keeps the file in the format the ledge before this one opens, for as long as a self-update
   * may still roll back to it: message bodies stay in the database until
   * {@linkcode MessageStore.useCurrentFormat}. A file already in the current format stays in it.
   */
  compatibleFormat?: boolean;
  /**
   * Free space the store keeps on its file system (default 16 MiB): below it new messages are
   * refused (`StoreFullError` with `reason: "disk"`), so acks, deletes, checkpoints and the open
   * always have room. 0 turns the floor off.
   */
  minFreeBytes?: number;
  /**
   * Size of the reserve file `<path>-reserve` (default 4 MiB): given back when a commit or the
   * open finds the disk full (something else filled it), written again once there is room.
   * 0: no reserve.
   */
  reserveBytes?: number;
  /** Free bytes on the file system of a directory, for tests; default statfs. */
  freeSpace?: (directory: string) => number;
}

/** Durable per-endpoint queues; see the module doc of store/mod.ts for the guarantees. */
export interface MessageStore {
  /**
   * Resolves once `message` is durable in every target queue (after the fsync of the commit it
   * shares with other enqueues); rejects having written it to none: `StoreFullError`
   * when a queue is full, an Error naming the file when the commit fails, TypeError/RangeError
   * for bad arguments. Targets naming one endpoint twice are merged (higher priority, longer
   * TTL); no targets resolves at once. The store keeps `message.body` (it is written at commit
   * time and `take` may hand out the same bytes), so the caller must not change them after the
   * call.
   */
  enqueue(message: IncomingMessage, targets: readonly EnqueueTarget[]): Promise<void>;
  /**
   * Leases up to `limit` messages of `endpoint`: priority, then arrival; skips expired and leased.
   * The store keeps only the key of a leased message, never the message: the caller holds what it
   * took for as long as it needs it (a release reads it from the file again).
   */
  take(endpoint: string, limit: number): QueuedMessage[];
  /**
   * Deletes leased messages (durable with the next commit). Unknown or repeated seqs are ignored.
   * One seq may be passed as a number (a PUBACK acks one message: no array to allocate).
   */
  ack(endpoint: string, seqs: readonly number[] | number): void;
  /** Returns leased messages to the queue, in their original order. */
  release(endpoint: string, seqs: readonly number[]): void;
  /** Every endpoint queue that has been used, by endpoint name. */
  stats(): QueueStats[];
  /** Calls `listener` when messages become available in `endpoint`; returns unsubscribe. */
  onEnqueued(endpoint: string, listener: () => void): () => void;
  /**
   * Deletes expired messages that are not in flight, and gives free pages back to the file
   * system once they are a quarter of the file (after a purge or a drained backlog); returns how
   * many messages it deleted. The store runs it every `purgeIntervalMs`.
   */
  purgeExpired(): number;
  /** Commit counters since open. */
  commitCounters(): CommitCounters;
  /** Changes the per-queue bound (a new deployment's `storeLimits`); already queued data stays. */
  setMaxSizeBytes(maxSizeBytes: number): void;
  /**
   * Moves the file to the current format (this ledge will not roll back): from now on, bodies
   * of 4 KiB and more go to the body log beside it. Throws an Error naming the file when it
   * cannot be written.
   */
  useCurrentFormat(): void;
  /** Commits what is pending, then closes the file. */
  close(): Promise<void>;
}
