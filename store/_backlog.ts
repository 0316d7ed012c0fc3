/**
 * `take` from the file: the backlog of a queue beyond what the store knows in memory (from
 * before a restart, past the memory budget, after a release). Private to store/.
 */
import { type EndpointState, leaseOf, type QueuedRow } from "./_endpoint_state.ts";
import { decodeMessage } from "./_message_codec.ts";
import type { DeliverableRow, StoreStatements } from "./_statements.ts";

/**
 * Leases up to `limit` deliverable rows of `state` read from the file after its delivery
 * position, with a seq up to `visibleSeq`; marks the queue known in memory when the file has
 * nothing more. On error the leases and the position are as before, and it throws.
 */
export function takeFromFile(
  sql: StoreStatements,
  state: EndpointState,
  limit: number,
  now: number,
  visibleSeq: number,
): QueuedRow[] {
  const taken: QueuedRow[] = [];
  const start = { priority: state.afterPriority, seq: state.afterSeq };
  try {
    // Continues after the last row handed out, so a take reads the rows it returns and not
    // the in-flight ones before them. Leased rows after the position exist only after a
    // rewind (a release, a more urgent message): those are stepped over.
    while (taken.length < limit) {
      const pageSize = limit - taken.length;
      // Rows as arrays (columns in the order of `deliverable`): no keyed object per row.
      const rows = sql.deliverable.all(
        state.id,
        now,
        state.afterPriority,
        state.afterSeq,
        visibleSeq,
        pageSize,
      ) as unknown as DeliverableRow[];
      for (const row of rows) {
        const seq = Number(row[1]);
        const priority = Number(row[0]);
        state.afterPriority = priority;
        state.afterSeq = seq;
        if (state.leases.has(seq)) continue;
        if (row[6] === null) throw new Error(`message ${seq} is queued but its body is missing`);
        const queued: QueuedRow = {
          endpoint: state.name,
          seq,
          priority,
          enqueuedAtMs: Number(row[3]),
          expiresAtMs: row[4] === null ? null : Number(row[4]),
          message: decodeMessage(String(row[5]), row[6] as Uint8Array, seq),
          sizeBytes: Number(row[2]),
        };
        state.leases.set(seq, leaseOf(queued));
        taken.push(queued);
      }
      if (rows.length < pageSize) {
        // Nothing deliverable is left after the position: from here on, commits are enough to
        // know the queue.
        state.ready = [];
        break;
      }
    }
  } catch (error) {
    for (const queued of taken) state.leases.delete(queued.seq);
    state.afterPriority = start.priority;
    state.afterSeq = start.seq;
    throw error;
  }
  return taken;
}
