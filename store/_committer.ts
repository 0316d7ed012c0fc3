/**
 * Group commit: the enqueues of a loop turn (and of the previous commit's fsync) and the acks
 * waiting to be deleted go into one transaction, with multi-row statements, then one fdatasync
 * of the WAL (on the loop while the disk is fast, else on Deno's pool: _sync_policy.ts). The
 * committed messages can be taken at once; the enqueues resolve after the sync. Private to
 * store/.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Logger } from "../core/log.ts";
import { afterMicrotasks, WRITE_LEVELS } from "../core/microtasks.ts";
import { AckRetry, forgetAcked } from "./_ack_retry.ts";
import { BatchStatements } from "./_batch_sql.ts";
import { type BodyLog, LOG_MAX_BYTES, LOGGED_BODY_BYTES } from "./_body_log.ts";
import { encodeRef } from "./_body_ref.ts";
import type { LoggedBody } from "./_body_log.ts";
import { CommitGroup } from "./_commit_group.ts";
import { describe } from "./_describe.ts";
import { type DiskGuard, isNoSpace } from "./_disk_guard.ts";
import { type EndpointState, noAckedRows } from "./_endpoint_state.ts";
import { FlushTimer } from "./_flush_timer.ts";
import { PendingAcks } from "./_pending_acks.ts";
import { SpaceReclaim } from "./_space_reclaim.ts";
import { SyncPolicy } from "./_sync_policy.ts";
import { type DurabilityFailure, WalDurability } from "./_wal_durability.ts";
import type { EncodedMessage } from "./_message_codec.ts";
import type { StoreStatements } from "./_statements.ts";
import type { EnqueueTarget } from "./store_types.ts";

/**
 * Seqs reserved in the file at a time: `last_seq` is written once per this many messages, not
 * on every commit (a page more in the WAL per commit); a restart skips what was left unused.
 */
const SEQ_BLOCK = 65_536;

/**
 * Microtask levels from a commit to the writes of its deliveries (the listeners' pumps take the
 * messages one level down, the transports write WRITE_LEVELS below that), and one to follow them.
 */
const AFTER_DELIVERIES = 1 + WRITE_LEVELS + 1;

/** What {@linkcode Committer} needs from the store. */
export interface CommitterOptions {
  path: string;
  db: DatabaseSync;
  sql: StoreStatements;
  /** The WAL to fdatasync after each commit; undefined with `synchronous: "NORMAL"`. */
  wal: Deno.FsFile | undefined;
  /** The body log: where `take` reads logged bodies, and large ones go while logging. */
  bodies: BodyLog;
  /** Whether bodies of LOGGED_BODY_BYTES and more go to the log (the file's format allows it). */
  logBodies: boolean;
  log: Logger;
  guard: DiskGuard;
  lastSeq: number;
  commitWindowMs: number;
  ackWindowMs: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  /** Tells the endpoints' listeners that messages became available. */
  notify(states: Iterable<EndpointState>): void;
  /** Deletes one queue row and its body reference; false when already gone. */
  deleteQueueRow(state: EndpointState, priority: number, seq: number): boolean;
}

/** The store's writes: group commits of enqueues and acks, WAL syncs, and space given back. */
export class Committer {
  readonly #o: CommitterOptions;
  readonly #batch: BatchStatements;
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  /** Groups waiting for their commit, oldest first; the last one takes new enqueues. */
  readonly #groups: CommitGroup[] = [];
  readonly #acks: PendingAcks;
  /** An ack added since the last {@linkcode scheduleAcks} moved when the acks are due. */
  #ackDueMoved = false;
  readonly #ackRetry: AckRetry;
  #lastSeq: number;
  /** The `last_seq` in the file: seqs up to it may be handed out without writing it. */
  #seqCeiling: number;
  /** Highest seq that is durable (committed, and synced when syncing): what `take` may return. */
  visibleSeq: number;
  /** Body bytes held in the endpoints' `ready` lists. */
  readyBytes = 0;
  /** The sync in flight; commits wait for it, so one sync covers all that arrived meanwhile. */
  #syncing: Promise<void> | undefined;
  readonly counters = { commits: 0, messages: 0, failed: 0 };
  #closed = false;
  /** Large bodies go to the body log (with the WAL to sync only). */
  #logBodies = false;
  readonly #space: SpaceReclaim;
  /** Where the WAL's and the body log's syncs run: on the loop, or on Deno's pool. */
  readonly syncs: SyncPolicy;
  /** Makes commits durable; undefined with `synchronous: "NORMAL"` (no WAL to sync). */
  readonly #durability: WalDurability | undefined;
  /** Transactions committed so far: a WAL sync covers all of them when none came during it. */
  #writes = 0;
  readonly #flushTimer = new FlushTimer(() => {
    this.#flush();
    // While a WAL sync is in flight its completion flushes what waits.
    if (this.#groups.length > 0 && this.#syncing === undefined) this.#flushTimer.schedule(0);
  });

  constructor(options: CommitterOptions) {
    this.#o = options;
    this.#batch = new BatchStatements(options.db);
    this.#begin = options.db.prepare("BEGIN IMMEDIATE");
    this.#commit = options.db.prepare("COMMIT");
    this.#acks = new PendingAcks(options.ackWindowMs);
    this.syncs = new SyncPolicy((averageMs, lastMs) => {
      options.log.info("the disk's syncs are slow: the store syncs on a thread for 10 s", {
        path: options.path,
        averageMs: Math.round(averageMs * 10) / 10,
        lastMs: Math.round(lastMs * 10) / 10,
      });
    });
    const { wal } = options;
    this.#durability = wal && new WalDurability({ ...options, wal, syncs: this.syncs });
    this.#lastSeq = options.lastSeq;
    this.#seqCeiling = options.lastSeq;
    this.visibleSeq = options.lastSeq;
    if (options.logBodies) this.startLoggingBodies();
    this.#space = new SpaceReclaim({
      ...options,
      durability: this.#durability,
      committedSeq: () => this.visibleSeq,
      closed: () => this.#closed,
    });
    this.#ackRetry = new AckRetry({
      ...options,
      inTransaction: (work) => this.inTransaction(work),
      afterAcks: () => this.#space.afterAcks(),
      putBack: (rows, delayMs) => {
        this.#acks.putBack(rows, delayMs);
        this.#scheduleAckCommit();
      },
      closed: () => this.#closed,
    });
    options.guard.measure();
  }

  /** The body log that `take` reads logged bodies from. */
  get bodies(): BodyLog {
    return this.#o.bodies;
  }

  /** From now on, large bodies go to the body log (once the file's format says they may). */
  startLoggingBodies(): void {
    this.#logBodies = this.#o.wal !== undefined;
  }

  /** Whether a body of `bytes` goes to the body log rather than into the database. */
  logs(bytes: number): boolean {
    return this.#logBodies && bytes >= LOGGED_BODY_BYTES && this.#o.bodies.size < LOG_MAX_BYTES;
  }

  /** The unused segments of the body log wait to be removed. */
  get segmentsWanted(): boolean {
    return this.#space.segmentsWanted;
  }

  /** Adds a validated message for `targets` (merged, with their states); resolves when durable. */
  add(
    encoded: EncodedMessage,
    targets: readonly EnqueueTarget[],
    states: readonly EndpointState[],
    enqueuedAtMs: number,
  ): Promise<void> {
    const seq = ++this.#lastSeq;
    // The body is the caller's (it must not change it after enqueue): no copy.
    const { message } = encoded;
    let logged: LoggedBody | undefined;
    try {
      if (this.logs(message.body.byteLength)) logged = this.#o.bodies.append(seq, message.body);
    } catch (error) {
      return Promise.reject(new Error(`Cannot enqueue: ${describe(error)}`, { cause: error }));
    }
    let group = this.#groups[this.#groups.length - 1];
    if (
      group === undefined || group.sealed || group.messages >= this.#o.maxBatchMessages ||
      group.bytes >= this.#o.maxBatchBytes
    ) {
      group = new CommitGroup();
      this.#groups.push(group);
    }
    const stored = logged === undefined ? message.body : encodeRef(logged);
    group.add(seq, encoded, stored, logged?.segment ?? null, targets, states, enqueuedAtMs);
    if (logged !== undefined) group.logEnd = this.#o.bodies.written;
    // While a WAL sync is in flight its completion flushes what waits: no timer per message.
    if (this.#syncing === undefined) this.#flushTimer.schedule(this.#o.commitWindowMs);
    return group.promise;
  }

  /** Queues the delete of an acked row for an ack commit (see {@linkcode PendingAcks}). */
  addAck(state: EndpointState, priority: number, seq: number): void {
    if (this.#acks.add(state, priority, seq)) this.#ackDueMoved = true;
  }

  /**
   * Acked rows stay in the table until their commit and every take steps over them: after
   * {@linkcode addAck}s, schedules that commit for when they are due (the window, or a thousand
   * at the next turn), if one of them moved that time.
   */
  scheduleAcks(): void {
    if (!this.#ackDueMoved) return;
    this.#ackDueMoved = false;
    this.#scheduleAckCommit();
  }

  #scheduleAckCommit(): void {
    const dueInMs = this.#acks.dueInMs();
    if (dueInMs !== Infinity && !this.#closed) this.#flushTimer.schedule(dueInMs);
  }

  /** Runs `work` in one write transaction; rolls back and throws when it fails. */
  inTransaction(work: () => void): void {
    this.#writes++;
    this.#begin.run();
    try {
      work();
      this.#commit.run();
    } catch (error) {
      // SQLite may already have rolled back (e.g. after SQLITE_FULL); a second ROLLBACK would throw.
      if (this.#o.db.isTransaction) this.#o.db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Measures the free space the disk guard admits messages against. */
  measure(): void {
    this.#o.guard.measure();
  }

  /**
   * Gives free pages back to the file system (with `urgent` as soon as there are a few, else
   * once they are a quarter of the file) and the body log's unused segments.
   */
  reclaimSpace(urgent: boolean, maxSteps?: number): void {
    this.#space.now(urgent, maxSteps);
  }

  /** Commits what is pending (acks: one last try), then closes the WAL handle. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#flushTimer.cancel();
    this.#space.cancel();
    try {
      await this.#syncing;
      while (this.#groups.length > 0) {
        this.#flush();
        await this.#syncing;
      }
      // Any acks that fail are delivered again after the next open.
      if (this.#acks.length > 0) this.#flush();
      await this.#space.removals;
      this.#space.removeSegments();
    } finally {
      this.#o.wal?.close();
      this.#o.bodies.close();
    }
  }

  /**
   * One transaction, one fsync: the pending acks and the oldest group of enqueues. With the WAL
   * to sync, the group's enqueues settle when the sync completes; until then the next commit
   * waits.
   */
  #flush(): void {
    if (this.#syncing !== undefined) return;
    const acksDue = this.#acks.length > 0 && (this.#closed || this.#acks.dueInMs() === 0);
    if (this.#groups.length === 0 && !acksDue) return this.#scheduleAckCommit();
    // A row is committed only once its body is durable: a durable row always has its body.
    if ((this.#groups[0]?.logEnd ?? 0) > this.#o.bodies.synced) return this.#syncBodies();
    const group = this.#groups.shift();
    const acks = acksDue ? this.#acks.takeAll() : noAckedRows();
    const acked = acks.seqs.length;
    if (!acksDue) this.#scheduleAckCommit();
    let ceiling = this.#seqCeiling;
    try {
      this.inTransaction(() => {
        if (acked > 0) this.#batch.deleteAcked(acks);
        if (group === undefined) return;
        this.#batch.insertMessages(group.messageParams);
        this.#batch.insertQueueRows(group.queueParams);
        if (group.lastSeq > ceiling) {
          this.#o.sql.setLastSeq.run(ceiling = group.lastSeq + SEQ_BLOCK);
        }
      });
    } catch (error) {
      if (isNoSpace(error)) this.#o.guard.releaseReserve("a commit found the disk full");
      if (group !== undefined) this.#failGroup(group, error);
      if (acked > 0) this.#ackRetry.retry(acks, this.#o.ackWindowMs);
      this.measure();
      return;
    }
    this.#seqCeiling = ceiling;
    // An ack lost to a power cut is one redelivery: acks alone are not worth a sync.
    forgetAcked(acks);
    this.#o.guard.measureAfterCommit();
    if (acked > 0) this.#space.afterAcks();
    if (group === undefined) return;
    this.counters.commits++;
    this.counters.messages += group.messages;
    this.#show(group);
    if (this.#durability === undefined) return group.resolve();
    this.#syncing = this.#syncAfterDeliveries(this.#durability, group).finally(() => {
      this.#syncing = undefined;
      this.#flushWaiting();
    });
  }

  /**
   * Makes `group` durable once the deliveries its commit woke are written (a sync on the loop
   * would hold them back), then resolves its enqueues or rejects them with the failure. Only the
   * PUBACK promises durability: a message lost with an unsynced commit was never acknowledged,
   * and its sender sends it again.
   */
  #syncAfterDeliveries(durability: WalDurability, group: CommitGroup): Promise<void> {
    const writes = this.#writes;
    return new Promise<void>((synced, failed) =>
      afterMicrotasks(AFTER_DELIVERIES, () => {
        const syncing = durability.run((failure) => {
          this.#answer(group, failure);
          if (failure === undefined && this.#writes === writes) this.#space.afterSync();
        });
        if (syncing === undefined) synced();
        else syncing.then(synced, failed);
      })
    );
  }

  /** After a WAL sync: what waited for it (enqueues, acks) is flushed at the next turn. */
  #flushWaiting(): void {
    if (!this.#closed && (this.#groups.length > 0 || this.#acks.length > 0)) {
      this.#flushTimer.schedule(0);
    }
  }

  /**
   * Syncs the body log, then flushes again; a failed sync refuses every group with a body in it.
   * On the pool, the groups waiting take no more enqueues: a body appended during the sync would
   * otherwise need another sync before their commit.
   */
  #syncBodies(): void {
    const { bodies } = this.#o;
    const syncing = this.syncs.run(
      () => bodies.syncNow(),
      () => bodies.sync(),
      (error) => this.#bodiesSynced(error),
    );
    // Synced on the loop (or the groups it was for refused): the flush starts over.
    if (syncing === undefined) return this.#flush();
    for (const group of this.#groups) group.sealed = true;
    this.#syncing = syncing.finally(() => {
      this.#syncing = undefined;
      if (!this.#closed) this.#flushTimer.schedule(0);
    });
  }

  /** After a sync of the body log: when it failed, the groups with a body in it are refused. */
  #bodiesSynced(error?: unknown): void {
    if (error === undefined) return;
    const { bodies } = this.#o;
    for (const group of this.#groups.filter((g) => g.logEnd > bodies.synced)) {
      this.#groups.splice(this.#groups.indexOf(group), 1);
      this.#failGroup(group, error);
    }
  }

  /**
   * The group is committed: counted in its queues, visible to `take`, and its endpoints' listeners
   * told. If its sync fails, its rows stay in the file, queued and deliverable: at worst a message
   * is delivered twice (its sender, refused, sends it again), never lost.
   */
  #show(group: CommitGroup): void {
    const touched = group.countCommitted(this);
    this.visibleSeq = group.lastSeq;
    this.#o.notify(touched);
  }

  /**
   * The group's sync is done: its enqueues resolve, or with a `failure` are rejected, so the
   * senders get no PUBACK and send again.
   */
  #answer(group: CommitGroup, failure?: DurabilityFailure): void {
    if (failure === undefined) return group.resolve();
    this.counters.failed++;
    group.fail(this.#o.log, failure.what, failure.error);
  }

  #failGroup(group: CommitGroup, error: unknown): void {
    group.uncountPending();
    this.#answer(group, { what: `commit to ${this.#o.path}`, error });
  }
}
