/** The queues' depth, age and drops, as `stats()` reports them. Private to store/. */
import type { EndpointState } from "./_endpoint_state.ts";
import type { StoreStatements } from "./_statements.ts";
import type { QueueStats } from "./store_types.ts";

/** Age in seconds of the oldest message of `state` at `now`, or null when it holds none. */
function oldestAgeSeconds(sql: StoreStatements, state: EndpointState, now: number): number | null {
  // The queue is ordered by (priority, seq): the first row of each priority is its oldest, so
  // visiting one row per priority finds the oldest without scanning the queue.
  let oldest: number | null = null;
  let priority = -1;
  for (;;) {
    const row = sql.firstAfterPriority.get(state.id, priority);
    if (!row) break;
    priority = Number(row.priority);
    const enqueuedAt = Number(row.enqueued_at);
    if (oldest === null || enqueuedAt < oldest) oldest = enqueuedAt;
  }
  return oldest === null ? null : Math.max(0, (now - oldest) / 1000);
}

/** Stats of every endpoint queue, by endpoint name. */
export function queueStats(
  sql: StoreStatements,
  states: Iterable<EndpointState>,
  now: number,
): QueueStats[] {
  return [...states]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((state) => ({
      endpoint: state.name,
      count: state.count,
      bytes: state.bytes,
      oldestAgeSeconds: state.count === 0 ? null : oldestAgeSeconds(sql, state, now),
      dropped: { expired: state.droppedExpired, full: state.droppedFull, lost: state.droppedLost },
    }));
}

/**
 * At open: each queue's count, bytes and expiry floor from its rows, and whether they expire in
 * delivery order, which one TTL per priority makes so (one read of the queue table). A clock
 * stepped back while they were enqueued breaks that order; it only delays a purge, since `take`
 * never hands out an expired row.
 */
export function readQueueTotals(
  sql: StoreStatements,
  byId: ReadonlyMap<number, EndpointState>,
): void {
  for (const row of sql.queueTotals.all()) {
    const state = byId.get(Number(row.endpoint));
    if (!state) throw new Error(`queue rows refer to unknown endpoint ${row.endpoint}`);
    const count = Number(row.count);
    state.count += count;
    state.bytes += Number(row.bytes);
    if (row.floor !== null) state.expiryFloorMs = Math.min(state.expiryFloorMs, Number(row.floor));
    const expiring = Number(row.expiring);
    if (expiring === 0) state.expiryOrder?.set(Number(row.priority), Infinity);
    else if (expiring === count && row.shortest === row.longest) {
      state.expiryOrder?.set(Number(row.priority), Number(row.latest));
    } else state.expiryOrder = null;
  }
}
