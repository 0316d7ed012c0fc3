/**
 * The durable message store: one queue per endpoint in one SQLite file, with group commit.
 */
import type { DatabaseSync } from "node:sqlite";
import { clearImmediate, setImmediate } from "node:timers";
import { type Logger, silentLogger } from "../../runtime/log.ts";
import { openStoreDatabase } from "./_database.ts";
import { type EndpointState, newEndpointState } from "./_endpoint_state.ts";
import { decodeMessage, type EncodedMessage, encodeMessage } from "./_message_codec.ts";
import { prepareStatements, type StoreStatements } from "./_statements.ts";
import { StoreFullError } from "./store_full_error.ts";
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
  endpoint: string;
  /** Identifies the message in `ack` and `release`; increases with arrival, across restarts. */
  seq: number;
  priority: number;
  enqueuedAtMs: number;
  /** When it expires (ms since the epoch), or null for never. */
  expiresAtMs: number | null;
  message: StoredMessage;
}

/** Depth and drops of one endpoint queue. */
export interface QueueStats {
  endpoint: string;
  /** Messages in the queue, in-flight ones included, acked ones not. */
  count: number;
  /** Their bytes (body plus encoded properties), what `maxSizeBytes` bounds. */
  bytes: number;
  /** Age of the oldest message, or null when empty. */
  oldestAgeSeconds: number | null;
  /** Messages dropped since the store was opened: expired by TTL, or refused as the queue was full. */
  dropped: { expired: number; full: number };
}

/** What the store has committed since it was opened, for metrics (mean batch size). */
export interface CommitCounters {
  /** Transactions that carried enqueues (each one fsync with `synchronous: "FULL"`). */
  commits: number;
  /** Messages those transactions made durable. */
  messages: number;
  /** Transactions that failed (their enqueues were rejected). */
  failed: number;
}

/** Options of {@linkcode openMessageStore}. */
export interface StoreOptions {
  /** Bound of each endpoint queue in bytes (body plus encoded properties). */
  maxSizeBytes: number;
  /** Clock in ms since the epoch, for tests. */
  now?: () => number;
  logger?: Logger;
  /** `FULL` (default) survives a power cut; `NORMAL` only a crash of the process. */
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
}

/** Durable per-endpoint queues; see the module doc of hub/store/mod.ts for the guarantees. */
export interface MessageStore {
  /** Resolves once `message` is durable in every target queue; rejects having written none. */
  enqueue(message: IncomingMessage, targets: readonly EnqueueTarget[]): Promise<void>;
  /** Leases up to `limit` messages of `endpoint`: priority, then arrival; skips expired and leased. */
  take(endpoint: string, limit: number): QueuedMessage[];
  /** Deletes leased messages (durable with the next commit). Unknown or repeated seqs are ignored. */
  ack(endpoint: string, seqs: readonly number[]): void;
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
  /** Commits what is pending, then closes the file. */
  close(): Promise<void>;
}

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

const MAX_PRIORITY = 4294967295;
const PURGE_CHUNK = 5000;

function checkPositiveInteger(value: number, field: string, action: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Cannot ${action}: ${field} must be a positive integer, got ${value}`);
  }
}

function checkSeqs(seqs: readonly number[], action: string): void {
  if (!Array.isArray(seqs)) throw new TypeError(`Cannot ${action}: seqs must be an array`);
  for (const seq of seqs) {
    if (!Number.isSafeInteger(seq)) {
      throw new TypeError(`Cannot ${action}: seq ${String(seq)} is not an integer`);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Merges targets naming the same endpoint: the higher priority and the longer TTL win. */
function mergeTargets(targets: readonly EnqueueTarget[]): EnqueueTarget[] {
  const byEndpoint = new Map<string, EnqueueTarget>();
  for (const target of targets) {
    if (typeof target?.endpoint !== "string" || target.endpoint === "") {
      throw new TypeError("Cannot enqueue: target endpoint must be a non-empty string");
    }
    const { endpoint, priority, ttlSeconds } = target;
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      throw new RangeError(
        `Cannot enqueue to ${endpoint}: priority must be an integer 0–${MAX_PRIORITY}, got ${priority}`,
      );
    }
    if (typeof ttlSeconds !== "number" || Number.isNaN(ttlSeconds)) {
      throw new RangeError(
        `Cannot enqueue to ${endpoint}: ttlSeconds must be a number, got ${ttlSeconds}`,
      );
    }
    const seen = byEndpoint.get(endpoint);
    if (!seen) {
      byEndpoint.set(endpoint, { endpoint, priority, ttlSeconds });
      continue;
    }
    const forever = seen.ttlSeconds < 0 || ttlSeconds < 0;
    byEndpoint.set(endpoint, {
      endpoint,
      priority: Math.min(seen.priority, priority),
      ttlSeconds: forever ? -1 : Math.max(seen.ttlSeconds, ttlSeconds),
    });
  }
  return [...byEndpoint.values()];
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
  #flushTimer: (() => void) | undefined;
  #flushDeadline = Infinity;
  #purgeTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #counters: CommitCounters = { commits: 0, messages: 0, failed: 0 };

  constructor(path: string, db: DatabaseSync, options: StoreOptions) {
    this.#path = path;
    this.#db = db;
    this.#sql = prepareStatements(db);
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? silentLogger;
    this.#commitWindowMs = options.commitWindowMs ?? 0;
    this.#ackWindowMs = options.ackWindowMs ?? 20;
    this.#maxBatchMessages = options.maxBatchMessages ?? 10_000;
    this.#maxBatchBytes = options.maxBatchBytes ?? 16 * 1024 * 1024;
    this.#maxSizeBytes = options.maxSizeBytes;
    this.#lastSeq = Number(this.#sql.lastSeq.get()?.seq ?? 0);
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
      this.#scheduleFlush(this.#commitWindowMs);
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
    const taken: QueuedMessage[] = [];
    try {
      // Pages through the queue in delivery order, skipping leased rows, so a take costs the
      // rows it returns plus the in-flight ones it steps over.
      const now = this.#now();
      let after = [-1, 0];
      while (taken.length < limit) {
        const pageSize = limit - taken.length + Math.min(state.leases.size, 1000);
        const rows = this.#sql.deliverable.all(state.id, now, after[0]!, after[1]!, pageSize);
        for (const row of rows) {
          const seq = Number(row.seq);
          const priority = Number(row.priority);
          after = [priority, seq];
          if (state.leases.has(seq)) continue;
          const stored = this.#sql.messageBody.get(seq);
          if (!stored) throw new Error(`message ${seq} is queued but its body is missing`);
          const message = decodeMessage(String(stored.properties), stored.body as Uint8Array, seq);
          state.leases.set(seq, { priority, sizeBytes: Number(row.size), acked: false });
          taken.push({
            endpoint,
            seq,
            priority,
            enqueuedAtMs: Number(row.enqueued_at),
            expiresAtMs: row.expires_at === null ? null : Number(row.expires_at),
            message,
          });
          if (taken.length === limit) break;
        }
        if (rows.length < pageSize) break;
      }
    } catch (error) {
      for (const message of taken) state.leases.delete(message.seq);
      throw new Error(`Cannot take from ${endpoint} in ${this.#path}: ${describe(error)}`, {
        cause: error,
      });
    }
    return taken;
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
      this.#scheduleFlush(this.#pendingAcks.length >= 1000 ? 0 : this.#ackWindowMs);
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
      released++;
    }
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
    for (const [state, count] of byEndpoint) {
      this.#log.info("dropped expired messages", { endpoint: state.name, count });
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

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearInterval(this.#purgeTimer);
    this.#clearFlushTimer();
    try {
      while (this.#pending.length > 0) this.#flush();
      // One last try for acks; any that fail are delivered again after the next open.
      if (this.#pendingAcks.length > 0) this.#flush();
    } finally {
      this.#listeners.clear();
      this.#db.close();
    }
    return Promise.resolve();
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
      throw new Error(
        `Cannot enqueue to ${name}: cannot record the endpoint in ${this.#path}: ${
          describe(error)
        }`,
        {
          cause: error,
        },
      );
    }
    const state = newEndpointState(id, name);
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

  #scheduleFlush(delayMs: number): void {
    const deadline = performance.now() + delayMs;
    if (this.#flushTimer !== undefined && this.#flushDeadline <= deadline) return;
    this.#clearFlushTimer();
    this.#flushDeadline = deadline;
    const run = () => {
      this.#flushTimer = undefined;
      this.#flushDeadline = Infinity;
      this.#flush();
      if (this.#pending.length > 0) this.#scheduleFlush(0);
    };
    // setTimeout(0) waits a millisecond or more in Deno; setImmediate runs right after the I/O
    // callbacks of this loop turn, which is the batch we want.
    if (delayMs === 0) {
      const immediate = setImmediate(run);
      this.#flushTimer = () => clearImmediate(immediate);
    } else {
      const timeout = setTimeout(run, delayMs);
      this.#flushTimer = () => clearTimeout(timeout);
    }
  }

  #clearFlushTimer(): void {
    if (this.#flushTimer === undefined) return;
    this.#flushTimer();
    this.#flushTimer = undefined;
    this.#flushDeadline = Infinity;
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

  /** One transaction, one fsync: the pending acks and the next batch of enqueues. */
  #flush(): void {
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
    this.#forgetAcked(acks);
    if (batch.length > 0) {
      this.#counters.commits++;
      this.#counters.messages += batch.length;
    }
    const touched = new Set<EndpointState>();
    for (const item of batch) {
      for (const target of item.targets) {
        target.state.pendingBytes -= item.encoded.sizeBytes;
        target.state.count++;
        target.state.bytes += item.encoded.sizeBytes;
        touched.add(target.state);
      }
      item.resolve();
    }
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
      this.#scheduleFlush(Math.max(this.#ackWindowMs, 1000));
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

  /** Gives free pages back to the file system once they are a large share of the file. */
  #reclaimSpace(): void {
    const free = Number(this.#db.prepare("PRAGMA freelist_count").get()?.freelist_count ?? 0);
    const total = Number(this.#db.prepare("PRAGMA page_count").get()?.page_count ?? 0);
    if (free < 256 || free * 4 < total) return;
    // Each step of this pragma frees one page, and exec() steps only once: iterate it through.
    for (const _ of this.#db.prepare("PRAGMA incremental_vacuum").iterate()) { /* one page */ }
    // The file shrinks when the vacuumed pages are checkpointed; TRUNCATE also empties the WAL.
    this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    this.#log.debug("reclaimed free pages", { path: this.#path, pages: free });
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
  const db = openStoreDatabase(path, {
    synchronous: options.synchronous ?? "FULL",
    ...(options.maxDatabaseBytes !== undefined
      ? { maxDatabaseBytes: options.maxDatabaseBytes }
      : {}),
  });
  try {
    return new SqliteMessageStore(path, db, options);
  } catch (error) {
    db.close();
    throw new Error(`Cannot open message store ${path}: ${describe(error)}`, { cause: error });
  }
}
