/**
 * The durable message store: one queue per endpoint in one SQLite file, with group commit.
 */
import type { DatabaseSync } from "node:sqlite";
import { type Logger, silentLogger } from "../core/log.ts";
import { openStoreDatabase, reclaimFreePages } from "./_database.ts";
import {
  type EndpointState,
  insertReady,
  newEndpointState,
  type ReadyRow,
  rewindTo,
} from "./_endpoint_state.ts";
import { FlushTimer } from "./_flush_timer.ts";
import { decodeMessage, type EncodedMessage, encodeMessage } from "./_message_codec.ts";
import { prepareStatements, type StoreStatements } from "./_statements.ts";
import { StoreFullError } from "./store_full_error.ts";
import type { IncomingMessage } from "./stored_message.ts";
import type {
  CommitCounters,
  EnqueueTarget,
  MessageStore,
  QueuedMessage,
  QueueStats,
  StoreOptions,
} from "./store_types.ts";
import { checkPositiveInteger, checkSeqs, mergeTargets } from "./_arguments.ts";

interface PendingTarget {
  state: EndpointState;
  priority: number;
  expiresAtMs: number | null;
}

interface PendingEnqueue {
  seq: number;
  enqueuedAtMs: number;
  encoded: EncodedMessage;
  targets: PendingTarget[];
  resolve: () => void;
  reject: (error: Error) => void;
}

interface PendingAck {
  state: EndpointState;
  priority: number;
  seq: number;
}

const PURGE_CHUNK = 5000;
/** Body bytes of committed messages the store keeps in memory for `take`, over all endpoints. */
const READY_MAX_BYTES = 2 * 1024 * 1024;
/** Messages one endpoint keeps in memory for `take`; a consumer that far behind reads the file. */
const READY_MAX_ROWS = 1_000;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class SqliteMessageStore implements MessageStore {
  readonly #path: string;
  readonly #db: DatabaseSync;
  readonly #sql: StoreStatements;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #commitWindowMs: number;
  readonly #ackWindowMs: number;
  readonly #maxBatchMessages: number;
  readonly #maxBatchBytes: number;
  #maxSizeBytes: number;
  readonly #byName = new Map<string, EndpointState>();
  readonly #byId = new Map<number, EndpointState>();
  readonly #listeners = new Map<string, Set<() => void>>();
  #pending: PendingEnqueue[] = [];
  #pendingAcks: PendingAck[] = [];
  #lastSeq: number;
  readonly #flushTimer = new FlushTimer(() => {
    this.#flush();
    // While a WAL sync is in flight its completion flushes what waits.
    if (this.#pending.length > 0 && this.#syncing === undefined) this.#flushTimer.schedule(0);
  });
  /**
   * The WAL, opened for fdatasync when enqueues must survive a power cut. SQLite itself runs with
   * synchronous=NORMAL (no sync at commit, a sync before each checkpoint); the store syncs the
   * WAL after each commit on a thread of Deno's pool, so the event loop keeps serving clients
   * during the fsync, and resolves the commit's enqueues only after it.
   */
  readonly #wal: Deno.FsFile | undefined;
  /** The sync in flight; commits wait for it, so one sync covers all that arrived meanwhile. */
  #syncing: Promise<void> | undefined;
  /** Highest seq that is durable (committed, and synced when syncing): what `take` may return. */
  #visibleSeq: number;
  /** Body bytes held in the endpoints' `ready` lists. */
  #readyBytes = 0;
  #purgeTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #counters: CommitCounters = { commits: 0, messages: 0, failed: 0 };

  constructor(
    path: string,
    db: DatabaseSync,
    options: StoreOptions & { wal: Deno.FsFile | undefined },
  ) {
    this.#path = path;
    this.#db = db;
    this.#wal = options.wal;
    this.#sql = prepareStatements(db);
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? silentLogger;
    this.#commitWindowMs = options.commitWindowMs ?? 0;
    this.#ackWindowMs = options.ackWindowMs ?? 20;
    this.#maxBatchMessages = options.maxBatchMessages ?? 10_000;
    this.#maxBatchBytes = options.maxBatchBytes ?? 16 * 1024 * 1024;
    this.#maxSizeBytes = options.maxSizeBytes;
    this.#lastSeq = Number(this.#sql.lastSeq.get()?.seq ?? 0);
    this.#visibleSeq = this.#lastSeq;
    for (const row of this.#sql.allEndpoints.all()) {
      const state = newEndpointState(Number(row.id), String(row.name));
      this.#byName.set(state.name, state);
      this.#byId.set(state.id, state);
    }
    for (const row of this.#sql.queueTotals.all()) {
      const state = this.#byId.get(Number(row.endpoint));
      if (!state) throw new Error(`queue rows refer to unknown endpoint ${row.endpoint}`);
      state.count = Number(row.count);
      state.bytes = Number(row.bytes);
    }
    // Queues left empty by the last run are known in full; a backlog is read from the file.
    for (const state of this.#byId.values()) if (state.count === 0) state.ready = [];
    const purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
    if (purgeIntervalMs > 0) {
      const timer = setInterval(() => this.#maintain(), purgeIntervalMs);
      Deno.unrefTimer(timer);
      this.#purgeTimer = timer;
    }
  }

  enqueue(message: IncomingMessage, targets: readonly EnqueueTarget[]): Promise<void> {
    try {
      return this.#enqueue(message, targets);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #enqueue(message: IncomingMessage, targets: readonly EnqueueTarget[]): Promise<void> {
    if (this.#closed) throw new Error(`Cannot enqueue: message store ${this.#path} is closed`);
    if (!Array.isArray(targets)) throw new TypeError("Cannot enqueue: targets must be an array");
    const merged = mergeTargets(targets);
    const encoded = encodeMessage(message);
    if (merged.length === 0) return Promise.resolve();
    const states = merged.map((target) => this.#endpoint(target.endpoint));
    // All-or-nothing: check every target before reserving room in any.
    let refused: StoreFullError | undefined;
    for (const state of states) {
      const queued = state.bytes + state.pendingBytes;
      if (queued + encoded.sizeBytes <= this.#maxSizeBytes) continue;
      state.droppedFull++;
      if (!state.full) {
        state.full = true;
        this.#log.warn("queue full: refusing new messages", {
          endpoint: state.name,
          bytes: queued,
          maxSizeBytes: this.#maxSizeBytes,
        });
      }
      refused ??= new StoreFullError(state.name, queued, this.#maxSizeBytes);
    }
    if (refused) throw refused;
    const enqueuedAtMs = this.#now();
    const pendingTargets = merged.map((target, i): PendingTarget => {
      const state = states[i]!;
      state.pendingBytes += encoded.sizeBytes;
      if (state.full) {
        state.full = false;
        this.#log.info("queue accepts messages again", { endpoint: state.name });
      }
      return {
        state,
        priority: target.priority,
        expiresAtMs: target.ttlSeconds < 0 ? null : enqueuedAtMs + target.ttlSeconds * 1000,
      };
    });
    const seq = ++this.#lastSeq;
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ seq, enqueuedAtMs, encoded, targets: pendingTargets, resolve, reject });
      this.#flushTimer.schedule(this.#commitWindowMs);
    });
  }

  take(endpoint: string, limit: number): QueuedMessage[] {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(
        `Cannot take from ${endpoint}: limit must be a positive integer, got ${limit}`,
      );
    }
    this.#checkOpen(`take from ${endpoint}`);
    const state = this.#byName.get(endpoint);
    if (!state || state.count === 0) return [];
    if (state.ready !== null) return this.#takeReady(state, limit);
    const taken: QueuedMessage[] = [];
    const start = { priority: state.afterPriority, seq: state.afterSeq };
    try {
      // Continues after the last row handed out, so a take reads the rows it returns and not
      // the in-flight ones before them. Leased rows after the position exist only after a
      // rewind (a release, a more urgent message): those are stepped over.
      const now = this.#now();
      while (taken.length < limit) {
        const pageSize = limit - taken.length;
        const rows = this.#sql.deliverable.all(
          state.id,
          now,
          state.afterPriority,
          state.afterSeq,
          this.#visibleSeq,
          pageSize,
        );
        for (const row of rows) {
          const seq = Number(row.seq);
          const priority = Number(row.priority);
          state.afterPriority = priority;
          state.afterSeq = seq;
          if (state.leases.has(seq)) continue;
          if (row.body === null) {
            throw new Error(`message ${seq} is queued but its body is missing`);
          }
          const message = decodeMessage(String(row.properties), row.body as Uint8Array, seq);
          state.leases.set(seq, { priority, sizeBytes: Number(row.size), acked: false });
          taken.push({
            endpoint,
            seq,
            priority,
            enqueuedAtMs: Number(row.enqueued_at),
            expiresAtMs: row.expires_at === null ? null : Number(row.expires_at),
            message,
          });
        }
        if (rows.length < pageSize) {
          // Nothing deliverable is left after the position: from here on, commits are enough
          // to know the queue.
          state.ready = [];
          break;
        }
      }
    } catch (error) {
      for (const message of taken) state.leases.delete(message.seq);
      state.afterPriority = start.priority;
      state.afterSeq = start.seq;
      throw new Error(`Cannot take from ${endpoint} in ${this.#path}: ${describe(error)}`, {
        cause: error,
      });
    }
    return taken;
  }

  /** `take` from the messages known in memory. */
  #takeReady(state: EndpointState, limit: number): QueuedMessage[] {
    const ready = state.ready!;
    const now = this.#now();
    const taken: QueuedMessage[] = [];
    let used = 0;
    let bytes = 0;
    while (taken.length < limit && used < ready.length) {
      const row = ready[used++]!;
      bytes += row.message.body.byteLength;
      state.afterPriority = row.priority;
      state.afterSeq = row.seq;
      if (row.expiresAtMs !== null && row.expiresAtMs <= now) continue;
      state.leases.set(row.seq, { priority: row.priority, sizeBytes: row.sizeBytes, acked: false });
      taken.push({
        endpoint: state.name,
        seq: row.seq,
        priority: row.priority,
        enqueuedAtMs: row.enqueuedAtMs,
        expiresAtMs: row.expiresAtMs,
        message: row.message,
      });
    }
    if (used === ready.length) ready.length = 0;
    else ready.splice(0, used);
    state.readyBytes -= bytes;
    this.#readyBytes -= bytes;
    return taken;
  }

  /** Forgets the messages `state` knows in memory: `take` reads the file again. */
  #dropReady(state: EndpointState): void {
    this.#readyBytes -= state.readyBytes;
    state.readyBytes = 0;
    state.ready = null;
  }

  ack(endpoint: string, seqs: readonly number[]): void {
    checkSeqs(seqs, `ack ${endpoint}`);
    this.#checkOpen(`ack ${endpoint}`);
    const state = this.#byName.get(endpoint);
    if (!state) return;
    let acked = 0;
    for (const seq of seqs) {
      const lease = state.leases.get(seq);
      if (!lease || lease.acked) continue;
      lease.acked = true;
      state.count--;
      state.bytes -= lease.sizeBytes;
      this.#pendingAcks.push({ state, priority: lease.priority, seq });
      acked++;
    }
    // Acked rows stay in the table until their commit and every take steps over them; past a
    // thousand, commit them at the next turn instead of waiting for the window.
    if (acked > 0) {
      this.#flushTimer.schedule(this.#pendingAcks.length >= 1000 ? 0 : this.#ackWindowMs);
    }
  }

  release(endpoint: string, seqs: readonly number[]): void {
    checkSeqs(seqs, `release ${endpoint}`);
    this.#checkOpen(`release ${endpoint}`);
    const state = this.#byName.get(endpoint);
    if (!state) return;
    let released = 0;
    for (const seq of seqs) {
      const lease = state.leases.get(seq);
      if (!lease || lease.acked) continue;
      state.leases.delete(seq);
      rewindTo(state, lease.priority, seq);
      released++;
    }
    // The lease does not hold the message: the file has it.
    if (released > 0) this.#dropReady(state);
    if (released > 0) this.#notify([state]);
  }

  stats(): QueueStats[] {
    this.#checkOpen("read queue stats");
    const now = this.#now();
    return [...this.#byName.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((state) => ({
        endpoint: state.name,
        count: state.count,
        bytes: state.bytes,
        oldestAgeSeconds: state.count === 0 ? null : this.#oldestAgeSeconds(state, now),
        dropped: { expired: state.droppedExpired, full: state.droppedFull },
      }));
  }

  onEnqueued(endpoint: string, listener: () => void): () => void {
    let listeners = this.#listeners.get(endpoint);
    if (!listeners) this.#listeners.set(endpoint, listeners = new Set());
    // A wrapper, so the same function subscribed twice is two subscriptions.
    const entry = () => listener();
    listeners.add(entry);
    return () => {
      listeners.delete(entry);
      if (listeners.size === 0 && this.#listeners.get(endpoint) === listeners) {
        this.#listeners.delete(endpoint);
      }
    };
  }

  purgeExpired(): number {
    this.#checkOpen("purge expired messages");
    let purged = 0;
    const byEndpoint = new Map<EndpointState, number>();
    for (;;) {
      const rows = this.#sql.expired.all(this.#now(), PURGE_CHUNK);
      const doomed = rows.filter((row) => {
        const state = this.#byId.get(Number(row.endpoint));
        return state !== undefined && !state.leases.has(Number(row.seq));
      });
      if (doomed.length === 0) break;
      this.#inTransaction(() => {
        for (const row of doomed) {
          const state = this.#byId.get(Number(row.endpoint))!;
          const seq = Number(row.seq);
          if (!this.#deleteQueueRow(state, Number(row.priority), seq)) continue;
          state.count--;
          state.bytes -= Number(row.size);
          state.droppedExpired++;
          byEndpoint.set(state, (byEndpoint.get(state) ?? 0) + 1);
          purged++;
        }
      });
      if (rows.length < PURGE_CHUNK) break;
    }
    const now = this.#now();
    for (const [state, count] of byEndpoint) {
      this.#log.info("dropped expired messages", { endpoint: state.name, count });
      if (state.ready === null) continue;
      const kept = state.ready.filter((row) => row.expiresAtMs === null || row.expiresAtMs > now);
      const keptBytes = kept.reduce((sum, row) => sum + row.message.body.byteLength, 0);
      this.#readyBytes -= state.readyBytes - keptBytes;
      state.readyBytes = keptBytes;
      state.ready = kept;
    }
    this.#reclaimSpace();
    return purged;
  }

  commitCounters(): CommitCounters {
    return { ...this.#counters };
  }

  setMaxSizeBytes(maxSizeBytes: number): void {
    checkPositiveInteger(maxSizeBytes, "maxSizeBytes", "set the queue bound");
    this.#maxSizeBytes = maxSizeBytes;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#purgeTimer);
    this.#flushTimer.cancel();
    try {
      await this.#syncing;
      while (this.#pending.length > 0) {
        this.#flush();
        await this.#syncing;
      }
      // One last try for acks; any that fail are delivered again after the next open.
      if (this.#pendingAcks.length > 0) this.#flush();
    } finally {
      this.#listeners.clear();
      this.#wal?.close();
      this.#db.close();
    }
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new Error(`Cannot ${action}: message store ${this.#path} is closed`);
  }

  #endpoint(name: string): EndpointState {
    const known = this.#byName.get(name);
    if (known) return known;
    let id: number;
    try {
      id = Number(this.#sql.insertEndpoint.get(name)?.id);
    } catch (error) {
      const reason = `cannot record the endpoint in ${this.#path}: ${describe(error)}`;
      throw new Error(`Cannot enqueue to ${name}: ${reason}`, { cause: error });
    }
    const state = newEndpointState(id, name);
    state.ready = [];
    this.#byName.set(name, state);
    this.#byId.set(id, state);
    return state;
  }

  #oldestAgeSeconds(state: EndpointState, now: number): number | null {
    // The queue is ordered by (priority, seq): the first row of each priority is its oldest, so
    // visiting one row per priority finds the oldest without scanning the queue.
    let oldest: number | null = null;
    let priority = -1;
    for (;;) {
      const row = this.#sql.firstAfterPriority.get(state.id, priority);
      if (!row) break;
      priority = Number(row.priority);
      const enqueuedAt = Number(row.enqueued_at);
      if (oldest === null || enqueuedAt < oldest) oldest = enqueuedAt;
    }
    return oldest === null ? null : Math.max(0, (now - oldest) / 1000);
  }

  #takeBatch(): PendingEnqueue[] {
    let count = 0;
    let bytes = 0;
    while (count < this.#pending.length && count < this.#maxBatchMessages) {
      bytes += this.#pending[count]!.encoded.sizeBytes;
      count++;
      if (bytes >= this.#maxBatchBytes) break;
    }
    return this.#pending.splice(0, count);
  }

  /**
   * One transaction, one fsync: the pending acks and the next batch of enqueues. With the WAL to
   * sync, the batch's enqueues settle when the sync completes; until then the next commit waits.
   */
  #flush(): void {
    if (this.#syncing !== undefined) return;
    const batch = this.#takeBatch();
    const acks = this.#pendingAcks;
    this.#pendingAcks = [];
    if (batch.length === 0 && acks.length === 0) return;
    try {
      this.#inTransaction(() => {
        this.#applyAcks(acks);
        for (const item of batch) this.#insert(item);
        if (batch.length > 0) this.#sql.setLastSeq.run(batch[batch.length - 1]!.seq);
      });
    } catch (error) {
      if (batch.length > 0) this.#counters.failed++;
      this.#failBatch(batch, error);
      if (acks.length > 0) this.#retryAcks(acks);
      return;
    }
    // An ack lost to a power cut is one redelivery: acks alone are not worth a sync.
    this.#forgetAcked(acks);
    if (batch.length === 0) return;
    this.#counters.commits++;
    this.#counters.messages += batch.length;
    if (this.#wal === undefined) return this.#settle(batch);
    this.#syncing = this.#wal.syncData().then(
      () => this.#settle(batch),
      (error) => this.#settle(batch, error ?? new Error("unknown error")),
    ).finally(() => {
      this.#syncing = undefined;
      if (!this.#closed && (this.#pending.length > 0 || this.#pendingAcks.length > 0)) {
        this.#flushTimer.schedule(0);
      }
    });
  }

  /**
   * The batch is committed (and synced): counted in its queues, visible to `take`, its enqueues
   * resolved. With `syncError` (the WAL sync failed after the commit) they are rejected, so the
   * senders get no PUBACK and send again; the rows are in the file, though, so they stay queued
   * and deliverable: at worst a message is delivered twice, never lost.
   */
  #settle(batch: readonly PendingEnqueue[], syncError?: unknown): void {
    let failure: Error | undefined;
    if (syncError !== undefined) {
      this.#counters.failed++;
      this.#log.error("WAL sync failed; enqueues rejected", {
        path: this.#path,
        messages: batch.length,
        error: describe(syncError),
      });
      failure = new Error(
        `Cannot enqueue: sync of ${this.#path}-wal failed: ${describe(syncError)}`,
        { cause: syncError },
      );
    }
    const touched = new Set<EndpointState>();
    for (const item of batch) {
      let message: QueuedMessage["message"] | undefined;
      for (const target of item.targets) {
        const { state } = target;
        state.pendingBytes -= item.encoded.sizeBytes;
        state.count++;
        state.bytes += item.encoded.sizeBytes;
        rewindTo(state, target.priority, item.seq);
        touched.add(state);
        if (state.ready === null) continue;
        const bodyBytes = item.encoded.body.byteLength;
        if (
          state.ready.length >= READY_MAX_ROWS || this.#readyBytes + bodyBytes > READY_MAX_BYTES
        ) {
          this.#dropReady(state);
          continue;
        }
        // The body is the caller's (it must not change it after enqueue): no copy.
        message ??= {
          body: item.encoded.body,
          appProperties: item.encoded.appProperties,
          systemProperties: item.encoded.systemProperties,
        };
        const row: ReadyRow = {
          priority: target.priority,
          seq: item.seq,
          sizeBytes: item.encoded.sizeBytes,
          enqueuedAtMs: item.enqueuedAtMs,
          expiresAtMs: target.expiresAtMs,
          message,
        };
        insertReady(state, row);
        this.#readyBytes += bodyBytes;
      }
      if (failure) item.reject(failure);
      else item.resolve();
    }
    this.#visibleSeq = batch[batch.length - 1]!.seq;
    this.#notify(touched);
  }

  #insert(item: PendingEnqueue): void {
    const { seq, encoded, targets, enqueuedAtMs } = item;
    this.#sql.insertMessage.run(seq, targets.length, encoded.properties, encoded.body);
    for (const target of targets) {
      this.#sql.insertQueueRow.run(
        target.state.id,
        target.priority,
        seq,
        encoded.sizeBytes,
        enqueuedAtMs,
        target.expiresAtMs,
      );
    }
  }

  #applyAcks(acks: readonly PendingAck[]): void {
    for (const ack of acks) this.#deleteQueueRow(ack.state, ack.priority, ack.seq);
  }

  /** Deletes one queue row and, with its last reference, the body; false when already gone. */
  #deleteQueueRow(state: EndpointState, priority: number, seq: number): boolean {
    const { changes } = this.#sql.deleteQueueRow.run(state.id, priority, seq);
    if (Number(changes) === 0) return false;
    if (Number(this.#sql.deleteLastReference.run(seq).changes) === 0) {
      this.#sql.dropReference.run(seq);
    }
    return true;
  }

  #failBatch(batch: readonly PendingEnqueue[], error: unknown): void {
    if (batch.length === 0) return;
    this.#log.error("commit failed; enqueues rejected", {
      path: this.#path,
      messages: batch.length,
      error: describe(error),
    });
    for (const item of batch) {
      for (const target of item.targets) target.state.pendingBytes -= item.encoded.sizeBytes;
      item.reject(
        new Error(`Cannot enqueue: commit to ${this.#path} failed: ${describe(error)}`, {
          cause: error,
        }),
      );
    }
  }

  /** Acks free space, so they are worth committing alone when a batch with them failed. */
  #retryAcks(acks: readonly PendingAck[]): void {
    try {
      this.#inTransaction(() => this.#applyAcks(acks));
      this.#forgetAcked(acks);
    } catch (error) {
      this.#log.error("cannot commit acks; will retry", {
        path: this.#path,
        error: describe(error),
      });
      if (this.#closed) return;
      this.#pendingAcks.unshift(...acks);
      this.#flushTimer.schedule(Math.max(this.#ackWindowMs, 1000));
    }
  }

  #forgetAcked(acks: readonly PendingAck[]): void {
    for (const ack of acks) ack.state.leases.delete(ack.seq);
  }

  #inTransaction(work: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.#db.exec("COMMIT");
    } catch (error) {
      // SQLite may already have rolled back (e.g. after SQLITE_FULL); a second ROLLBACK would throw.
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #notify(states: Iterable<EndpointState>): void {
    for (const state of states) {
      const listeners = this.#listeners.get(state.name);
      if (!listeners) continue;
      for (const listener of [...listeners]) {
        try {
          listener();
        } catch (error) {
          this.#log.error("onEnqueued listener threw", {
            endpoint: state.name,
            error: describe(error),
          });
        }
      }
    }
  }

  #maintain(): void {
    try {
      this.purgeExpired();
    } catch (error) {
      this.#log.error("store maintenance failed", { path: this.#path, error: describe(error) });
    }
  }

  #reclaimSpace(): void {
    const pages = reclaimFreePages(this.#db);
    if (pages > 0) this.#log.debug("reclaimed free pages", { path: this.#path, pages });
  }
}

/**
 * Opens the store file at `path`, creating it (mode 0600) with its schema when missing. Every
 * unacked message of a previous run is available again. Throws an Error naming the file when it
 * cannot be opened or is not a valid store; the file is never deleted or rewritten.
 *
 * @example
 * ```ts
 * const store = openMessageStore(`${stateDir}/messages.db`, { maxSizeBytes: 1 << 30 });
 * await store.enqueue(message, [{ endpoint: "upstream", priority: 0, ttlSeconds: 7200 }]);
 * const [first] = store.take("upstream", 1);
 * store.ack("upstream", [first!.seq]);
 * await store.close();
 * ```
 */
export function openMessageStore(path: string, options: StoreOptions): MessageStore {
  checkPositiveInteger(options.maxSizeBytes, "maxSizeBytes", "open message store");
  for (const field of ["commitWindowMs", "ackWindowMs", "purgeIntervalMs"] as const) {
    const value = options[field];
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new RangeError(
        `Cannot open message store: ${field} must be a number ≥ 0, got ${value}`,
      );
    }
  }
  for (const field of ["maxBatchMessages", "maxBatchBytes", "maxDatabaseBytes"] as const) {
    const value = options[field];
    if (value !== undefined) checkPositiveInteger(value, field, "open message store");
  }
  const synchronous = options.synchronous ?? "FULL";
  // FULL is SQLite's NORMAL plus the store's own WAL sync after each commit (see #wal).
  const db = openStoreDatabase(path, {
    synchronous: "NORMAL",
    ...(options.maxDatabaseBytes !== undefined
      ? { maxDatabaseBytes: options.maxDatabaseBytes }
      : {}),
  });
  let wal: Deno.FsFile | undefined;
  try {
    if (synchronous === "FULL") wal = Deno.openSync(`${path}-wal`, { read: true });
    return new SqliteMessageStore(path, db, { ...options, wal });
  } catch (error) {
    wal?.close();
    db.close();
    throw new Error(`Cannot open message store ${path}: ${describe(error)}`, { cause: error });
  }
}
