/**
 * The durable message store: one queue per endpoint in one SQLite file, with group commit.
 * Commits and syncs are in _committer.ts, reads from the file in _backlog.ts, the disk's floor
 * and reserve in _disk_guard.ts.
 */
import type { DatabaseSync } from "node:sqlite";
import { type Logger, silentLogger } from "../core/log.ts";
import { checkOptions, openDatabase, openWalToSync } from "./_open.ts";
import { dropReady, markAcked, newEndpointState, releaseLease } from "./_endpoint_state.ts";
import type { EndpointState } from "./_endpoint_state.ts";
import { dropLost, type LostRow, takeFromFile, takeFromReady } from "./_backlog.ts";
import { Committer } from "./_committer.ts";
import { BodyLog } from "./_body_log.ts";
import { DiskGuard, statfsFreeSpace } from "./_disk_guard.ts";
import { encodeMessage, newEncodedMessage } from "./_message_codec.ts";
import { purgeExpiredRows } from "./_purge.ts";
import { IdleReclaim } from "./_idle_reclaim.ts";
import { reclaimWanted, SCHEMA_VERSION, schemaVersion, setCurrentVersion } from "./_database.ts";
import { queueStats, readQueueTotals } from "./_queue_stats.ts";
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
import { describe } from "./_describe.ts";

/** Free space the store keeps on its file system unless told otherwise. */
export const DEFAULT_MIN_FREE_BYTES = 16 * 1024 * 1024;
/** Size of the reserve file unless told otherwise. */
export const DEFAULT_RESERVE_BYTES = 4 * 1024 * 1024;

class SqliteMessageStore implements MessageStore {
  readonly #path: string;
  readonly #db: DatabaseSync;
  readonly #sql: StoreStatements;
  readonly #now: () => number;
  readonly #log: Logger;
  #maxSizeBytes: number;
  readonly #byName = new Map<string, EndpointState>();
  readonly #byId = new Map<number, EndpointState>();
  readonly #listeners = new Map<string, Set<() => void>>();
  readonly #committer: Committer;
  readonly #guard: DiskGuard;
  #purgeTimer: ReturnType<typeof setInterval> | undefined;
  readonly #idleReclaim: IdleReclaim;
  /** What each enqueue encodes into, and its targets' states: read by the committer at once. */
  readonly #encoded = newEncodedMessage();
  readonly #states: EndpointState[] = [];
  /** Messages acked so far: with the committed ones, what tells the store is quiet. */
  #acked = 0;
  #closed = false;

  constructor(
    path: string,
    db: DatabaseSync,
    options: StoreOptions & { wal: Deno.FsFile | undefined; guard: DiskGuard },
  ) {
    this.#path = path;
    this.#db = db;
    this.#sql = prepareStatements(db);
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? silentLogger;
    this.#maxSizeBytes = options.maxSizeBytes;
    this.#guard = options.guard;
    const lastSeq = Number(this.#sql.lastSeq.get()?.seq ?? 0);
    for (const row of this.#sql.allEndpoints.all()) {
      const state = newEndpointState(Number(row.id), String(row.name));
      this.#byName.set(state.name, state);
      this.#byId.set(state.id, state);
    }
    readQueueTotals(this.#sql, this.#byId);
    // Queues left empty by the last run are known in full; a backlog is read from the file.
    for (const state of this.#byId.values()) if (state.count === 0) state.ready = [];
    this.#committer = new Committer({
      path,
      db,
      sql: this.#sql,
      wal: options.wal,
      bodies: new BodyLog(path),
      logBodies: schemaVersion(db) === SCHEMA_VERSION,
      log: this.#log,
      guard: this.#guard,
      lastSeq,
      commitWindowMs: options.commitWindowMs ?? 0,
      ackWindowMs: options.ackWindowMs ?? 20,
      maxBatchMessages: options.maxBatchMessages ?? 10_000,
      maxBatchBytes: options.maxBatchBytes ?? 16 * 1024 * 1024,
      notify: (states) => this.#notify(states),
      deleteQueueRow: (state, priority, seq) => this.#deleteQueueRow(state, priority, seq),
    });
    this.#idleReclaim = new IdleReclaim({
      activity: () => this.#committer.counters.messages + this.#acked,
      wanted: () => reclaimWanted(db, false) || this.#committer.segmentsWanted,
      reclaim: (steps) => this.#committer.reclaimSpace(false, steps),
      failed: (error) =>
        this.#log.warn("giving free space back failed; the next maintenance tick tries again", {
          path: this.#path,
          error: describe(error),
        }),
    });
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
    const encoded = encodeMessage(message, this.#encoded);
    if (merged.length === 0) return Promise.resolve();
    const states = this.#states;
    states.length = 0;
    for (const target of merged) states.push(this.#endpoint(target.endpoint));
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
    const bodyBytes = encoded.message.body.byteLength;
    if (!this.#guard.admit(encoded.sizeBytes, this.#committer.logs(bodyBytes) ? bodyBytes : 0)) {
      const first = states[0]!;
      throw new StoreFullError(first.name, first.bytes + first.pendingBytes, this.#maxSizeBytes, {
        freeBytes: this.#guard.freeBytes,
        minFreeBytes: this.#guard.minFreeBytes,
      });
    }
    for (const state of states) {
      if (!state.full) continue;
      state.full = false;
      this.#log.info("queue accepts messages again", { endpoint: state.name });
    }
    return this.#committer.add(encoded, merged, states, this.#now());
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
    if (state.ready !== null) return takeFromReady(state, limit, this.#now(), this.#committer);
    try {
      const { visibleSeq, bodies } = this.#committer;
      const lost: LostRow[] = [];
      const taken = takeFromFile(this.#sql, state, limit, this.#now(), visibleSeq, bodies, lost);
      if (lost.length > 0) dropLost(state, lost, this.#committer, this.#log, bodies.directory);
      return taken;
    } catch (error) {
      throw new Error(`Cannot take from ${endpoint} in ${this.#path}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  ack(endpoint: string, seqs: readonly number[] | number): void {
    checkSeqs(seqs, `ack ${endpoint}`);
    this.#checkOpen(`ack ${endpoint}`);
    const state = this.#byName.get(endpoint);
    if (!state) return;
    let acked = 0;
    if (typeof seqs === "number") acked = this.#ackOne(state, seqs);
    else for (const seq of seqs) acked += this.#ackOne(state, seq);
    if (acked === 0) return;
    this.#acked += acked;
    this.#committer.scheduleAcks();
  }

  /** Marks one lease acked and queues its delete; 1 when it was leased and not acked yet. */
  #ackOne(state: EndpointState, seq: number): number {
    const slot = state.leases.slotOf(seq);
    if (slot < 0 || state.leases.isAckedAt(slot)) return 0;
    const priority = state.leases.priorityAt(slot);
    markAcked(state, slot);
    this.#committer.addAck(state, priority, seq);
    return 1;
  }

  release(endpoint: string, seqs: readonly number[]): void {
    checkSeqs(seqs, `release ${endpoint}`);
    this.#checkOpen(`release ${endpoint}`);
    const state = this.#byName.get(endpoint);
    if (!state) return;
    let released = 0;
    for (const seq of seqs) if (releaseLease(state, seq)) released++;
    if (released === 0) return;
    // The lease does not hold the message: the file has it.
    dropReady(state, this.#committer);
    this.#notify([state]);
  }

  stats(): QueueStats[] {
    this.#checkOpen("read queue stats");
    return queueStats(this.#sql, this.#byName.values(), this.#now());
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
    const purged = this.#purgeRows();
    this.#committer.reclaimSpace(false);
    return purged;
  }

  #purgeRows(): number {
    this.#checkOpen("purge expired messages");
    return purgeExpiredRows({
      sql: this.#sql,
      byId: this.#byId,
      now: this.#now,
      log: this.#log,
      inTransaction: (work) => this.#committer.inTransaction(work),
      deleteQueueRow: (state, priority, seq) => this.#deleteQueueRow(state, priority, seq),
      forgetReadyBytes: (bytes) => (this.#committer.readyBytes -= bytes),
    });
  }

  commitCounters(): CommitCounters {
    const { counters, syncs } = this.#committer;
    const syncStats = { ...syncs.counters, seconds: syncs.seconds.snapshot() };
    return { ...counters, refusedDiskFull: this.#guard.refusals, syncs: syncStats };
  }

  setMaxSizeBytes(maxSizeBytes: number): void {
    checkPositiveInteger(maxSizeBytes, "maxSizeBytes", "set the queue bound");
    this.#maxSizeBytes = maxSizeBytes;
  }

  useCurrentFormat(): void {
    this.#checkOpen("move to the current file format");
    try {
      if (schemaVersion(this.#db) < SCHEMA_VERSION) {
        this.#committer.inTransaction(() => setCurrentVersion(this.#db));
      }
    } catch (error) {
      throw new Error(`Cannot move ${this.#path} to the current format: ${describe(error)}`, {
        cause: error,
      });
    }
    this.#committer.startLoggingBodies();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#purgeTimer);
    this.#idleReclaim.stop();
    try {
      await this.#committer.close();
    } finally {
      this.#listeners.clear();
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

  /** Deletes one queue row and, with its last reference, the body; false when already gone. */
  #deleteQueueRow(state: EndpointState, priority: number, seq: number): boolean {
    const { changes } = this.#sql.deleteQueueRow.run(state.id, priority, seq);
    if (Number(changes) === 0) return false;
    if (Number(this.#sql.deleteLastReference.run(seq).changes) === 0) {
      this.#sql.dropReference.run(seq);
    }
    return true;
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

  /** The tick: expired rows go now, free pages at the next quiet moment. */
  #maintain(): void {
    try {
      for (const state of this.#byId.values()) state.leases.trim();
      this.#purgeRows();
      this.#idleReclaim.start();
    } catch (error) {
      this.#log.error("store maintenance failed", { path: this.#path, error: describe(error) });
    }
  }
}

/**
 * Opens the store file at `path`, creating it (mode 0600) with its schema when missing. Every
 * unacked message of a previous run is available again. Throws an Error naming the file when it
 * cannot be opened or is not a valid store; the file is never deleted or rewritten. On a full
 * disk it opens without writing (the schema in place is only read), giving back its reserve
 * file if it must.
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
  checkOptions(options);
  const guard = new DiskGuard(path, {
    minFreeBytes: options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES,
    reserveBytes: options.reserveBytes ?? DEFAULT_RESERVE_BYTES,
    freeSpace: options.freeSpace ?? statfsFreeSpace,
    log: options.logger ?? silentLogger,
  });
  const db = openDatabase(path, options, guard);
  let wal: Deno.FsFile | undefined;
  try {
    wal = openWalToSync(path, options);
    return new SqliteMessageStore(path, db, { ...options, wal, guard });
  } catch (error) {
    wal?.close();
    db.close();
    throw new Error(`Cannot open message store ${path}: ${describe(error)}`, { cause: error });
  }
}
