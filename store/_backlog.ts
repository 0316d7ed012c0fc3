/**
 * `take` from the file: the backlog of a queue beyond what the store knows in memory (from
 * before a restart, past the memory budget, after a release). Private to store/.
 */
import type { Logger } from "../core/log.ts";
import { type EndpointState, markAcked, type QueuedRow } from "./_endpoint_state.ts";
import { decodeMessage } from "./_message_codec.ts";
import type { DeliverableRow, StoreStatements } from "./_statements.ts";
import type { BodyLog } from "./_body_log.ts";
import { decodeRef } from "./_body_ref.ts";

/** A row {@linkcode takeFromFile} leased without its body, for {@linkcode dropLost}. */
export interface LostRow {
  readonly priority: number;
  readonly seq: number;
}

/**
 * Leases up to `limit` deliverable rows of `state` read from the file after its delivery
 * position, with a seq up to `visibleSeq`; marks the queue known in memory when the file has
 * nothing more. A row whose body is gone from the body log is leased into `lost` instead (for
 * {@linkcode dropLost}), so one damaged message does not stop its queue. On error the leases
 * and the position are as before, and it throws.
 */
export function takeFromFile(
  sql: StoreStatements,
  state: EndpointState,
  limit: number,
  now: number,
  visibleSeq: number,
  bodies: BodyLog,
  lost: LostRow[],
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
        const body = row[7] !== null && row[6] !== null
          ? bodies.read(row[7], decodeRef(row[6])) ?? null
          : row[6];
        if (body === null && row[7] !== null) {
          state.leases.set(seq, priority, Number(row[2]));
          lost.push({ priority, seq });
          continue;
        }
        if (body === null) throw new Error(`message ${seq} is queued but its body is missing`);
        const queued: QueuedRow = {
          endpoint: state.name,
          seq,
          priority,
          enqueuedAtMs: Number(row[3]),
          expiresAtMs: row[4] === null ? null : Number(row[4]),
          message: decodeMessage(String(row[5]), body, seq),
          sizeBytes: Number(row[2]),
        };
        state.leases.set(seq, priority, queued.sizeBytes);
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
    for (const queued of [...taken, ...lost]) state.leases.delete(queued.seq);
    lost.length = 0;
    state.afterPriority = start.priority;
    state.afterSeq = start.seq;
    throw error;
  }
  return taken;
}

/**
 * `take` from the messages known in memory: the rows themselves become the leases; the body
 * bytes they held leave the endpoint's and the store's (`budget`) count.
 */
export function takeFromReady(
  state: EndpointState,
  limit: number,
  now: number,
  budget: { readyBytes: number },
): QueuedRow[] {
  const ready = state.ready!;
  const taken: QueuedRow[] = [];
  let used = 0;
  let bytes = 0;
  while (taken.length < limit && used < ready.length) {
    const row = ready[used++]!;
    bytes += row.message.body.byteLength;
    state.afterPriority = row.priority;
    state.afterSeq = row.seq;
    if (row.expiresAtMs !== null && row.expiresAtMs <= now) continue;
    state.leases.set(row.seq, row.priority, row.sizeBytes);
    taken.push(row);
  }
  if (used === ready.length) ready.length = 0;
  else ready.splice(0, used);
  state.readyBytes -= bytes;
  budget.readyBytes -= bytes;
  return taken;
}

/** Seqs a lost-body log line names; past them it gives the count of the rest. */
const LOST_SEQS_LOGGED = 10;

/**
 * Deletes the rows {@linkcode takeFromFile} found without their body (a segment of the body log
 * removed or cut short from outside), as if acked, and logs them in one line per take (a removed
 * segment holds up to 4 MiB of bodies, a line each flooded the log): the messages are lost, their
 * queue goes on.
 */
export function dropLost(
  state: EndpointState,
  lost: readonly LostRow[],
  committer: {
    addAck(state: EndpointState, priority: number, seq: number): void;
    scheduleAcks(): void;
  },
  log: Logger,
  directory: string,
): void {
  const named = lost.slice(0, LOST_SEQS_LOGGED).map((row) => row.seq).join(", ");
  const more = lost.length - LOST_SEQS_LOGGED;
  log.error("queued messages' bodies are missing from the body log; the messages are dropped", {
    endpoint: state.name,
    messages: lost.length,
    seqs: more > 0 ? `${named} and ${more} more` : named,
    path: directory,
  });
  for (const { priority, seq } of lost) {
    const slot = state.leases.slotOf(seq);
    if (slot < 0) continue;
    markAcked(state, slot);
    state.droppedLost++;
    committer.addAck(state, priority, seq);
  }
  committer.scheduleAcks();
}
