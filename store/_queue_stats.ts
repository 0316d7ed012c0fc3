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
      dropped: { expired: state.droppedExpired, full: state.droppedFull },
    }));
}
