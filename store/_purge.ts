/**
 * The expiry purge: deletes expired messages that are not in flight. There is no index on the
 * expiry: a queue whose floor says nothing expired is skipped, a queue whose rows expire in
 * delivery order (one TTL per queue) is read from its head up to its first live row, and only a
 * queue with mixed TTLs in one priority is scanned whole. Private to store/.
 */
import type { Logger } from "../core/log.ts";
import type { EndpointState } from "./_endpoint_state.ts";
import type { StoreStatements } from "./_statements.ts";

const PURGE_CHUNK = 5000;

/** What the purge needs from the store. */
export interface PurgeContext {
  sql: StoreStatements;
  byId: ReadonlyMap<number, EndpointState>;
  now: () => number;
  log: Logger;
  inTransaction(work: () => void): void;
  deleteQueueRow(state: EndpointState, priority: number, seq: number): boolean;
  /** `bytes` of bodies left the endpoints' `ready` lists. */
  forgetReadyBytes(bytes: number): void;
}

/** An expired row to delete. */
interface Doomed {
  priority: number;
  seq: number;
  size: number;
}

/** One queue's purge: the rows found expired, and the floor of what it left. */
class QueuePurge {
  readonly doomed: Doomed[] = [];
  floorMs = Infinity;
  purged = 0;
  readonly nowMs: number;
  readonly #context: PurgeContext;
  readonly #state: EndpointState;

  constructor(context: PurgeContext, state: EndpointState, nowMs: number) {
    this.#context = context;
    this.#state = state;
    this.nowMs = nowMs;
  }

  /**
   * Takes a row: an expired one not in flight is doomed; any other keeps the floor at or below
   * its expiry. False for a live row (neither expired nor in flight).
   */
  visit(priority: number, seq: number, size: number, expiresAtMs: number | null): boolean {
    const leased = this.#state.leases.has(seq);
    if (expiresAtMs !== null && expiresAtMs <= this.nowMs && !leased) {
      this.doomed.push({ priority, seq, size });
      if (this.doomed.length >= PURGE_CHUNK) this.flush();
      return true;
    }
    if (expiresAtMs !== null && expiresAtMs < this.floorMs) this.floorMs = expiresAtMs;
    return leased;
  }

  /** Deletes the doomed rows in one transaction; counts them once it committed. */
  flush(): void {
    const state = this.#state;
    const context = this.#context;
    const doomed = this.doomed;
    if (doomed.length === 0) return;
    let count = 0;
    let bytes = 0;
    try {
      context.inTransaction(() => {
        for (const { priority, seq, size } of doomed) {
          if (!context.deleteQueueRow(state, priority, seq)) continue;
          count++;
          bytes += size;
        }
      });
    } finally {
      doomed.length = 0;
    }
    state.count -= count;
    state.bytes -= bytes;
    state.droppedExpired += count;
    this.purged += count;
  }
}

/**
 * Rows expire in delivery order within each priority: reads each priority from its head to its
 * first live row.
 */
function purgeInOrder(sql: StoreStatements, state: EndpointState, purge: QueuePurge): void {
  for (let priority = -1;;) {
    const next = sql.firstAfterPriority.get(state.id, priority);
    if (!next) break;
    priority = Number(next.priority);
    let afterSeq = -1;
    for (let live = false; !live;) {
      const rows = sql.rowsOfPriority.all(state.id, priority, afterSeq, PURGE_CHUNK);
      for (const row of rows) {
        afterSeq = Number(row.seq);
        const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
        if (!purge.visit(priority, afterSeq, Number(row.size), expiresAt)) {
          live = true;
          break;
        }
      }
      if (rows.length < PURGE_CHUNK) break;
    }
  }
  purge.flush();
}

/** Mixed TTLs: finds the expired rows in a scan of the queue, and its new floor in another. */
function purgeByScan(sql: StoreStatements, state: EndpointState, purge: QueuePurge): void {
  let afterPriority = -1;
  let afterSeq = -1;
  for (;;) {
    const rows = sql.expiredRows.all(state.id, purge.nowMs, afterPriority, afterSeq, PURGE_CHUNK);
    for (const row of rows) {
      afterPriority = Number(row.priority);
      afterSeq = Number(row.seq);
      purge.visit(afterPriority, afterSeq, Number(row.size), Number(row.expires_at));
    }
    if (rows.length < PURGE_CHUNK) break;
  }
  purge.flush();
  const floor = sql.expiryFloor.get(state.id)?.expiry;
  purge.floorMs = floor === null || floor === undefined ? Infinity : Number(floor);
}

/** Drops expired rows from `state.ready` after a purge. */
function forgetExpiredReady(context: PurgeContext, state: EndpointState, nowMs: number): void {
  if (state.ready === null) return;
  const kept = state.ready.filter((row) => row.expiresAtMs === null || row.expiresAtMs > nowMs);
  const keptBytes = kept.reduce((sum, row) => sum + row.message.body.byteLength, 0);
  context.forgetReadyBytes(state.readyBytes - keptBytes);
  state.readyBytes = keptBytes;
  state.ready = kept;
}

/** Deletes expired rows not leased, a chunk per transaction; returns how many. */
export function purgeExpiredRows(context: PurgeContext): number {
  const { sql } = context;
  let purged = 0;
  for (const state of context.byId.values()) {
    if (state.count === 0 && state.pendingBytes === 0) {
      // Nothing left but acked rows on their way out: what comes next starts a new order.
      state.expiryFloorMs = Infinity;
      state.expiryOrder = new Map();
      continue;
    }
    const nowMs = context.now();
    if (state.expiryFloorMs > nowMs) continue;
    const purge = new QueuePurge(context, state, nowMs);
    if (state.expiryOrder === null) purgeByScan(sql, state, purge);
    else purgeInOrder(sql, state, purge);
    state.expiryFloorMs = purge.floorMs;
    if (purge.purged === 0) continue;
    purged += purge.purged;
    context.log.info("dropped expired messages", { endpoint: state.name, count: purge.purged });
    forgetExpiredReady(context, state, nowMs);
  }
  return purged;
}
