/** The expiry purge: deletes expired messages that are not in flight. Private to store/. */
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

/** Deletes expired rows not leased, a chunk per transaction; returns how many. */
export function purgeExpiredRows(context: PurgeContext): number {
  const { sql, byId } = context;
  let purged = 0;
  const byEndpoint = new Map<EndpointState, number>();
  for (;;) {
    const rows = sql.expired.all(context.now(), PURGE_CHUNK);
    const doomed = rows.filter((row) => {
      const state = byId.get(Number(row.endpoint));
      return state !== undefined && !state.leases.has(Number(row.seq));
    });
    if (doomed.length === 0) break;
    context.inTransaction(() => {
      for (const row of doomed) {
        const state = byId.get(Number(row.endpoint))!;
        const seq = Number(row.seq);
        if (!context.deleteQueueRow(state, Number(row.priority), seq)) continue;
        state.count--;
        state.bytes -= Number(row.size);
        state.droppedExpired++;
        byEndpoint.set(state, (byEndpoint.get(state) ?? 0) + 1);
        purged++;
      }
    });
    if (rows.length < PURGE_CHUNK) break;
  }
  const now = context.now();
  for (const [state, count] of byEndpoint) {
    context.log.info("dropped expired messages", { endpoint: state.name, count });
    if (state.ready === null) continue;
    const kept = state.ready.filter((row) => row.expiresAtMs === null || row.expiresAtMs > now);
    const keptBytes = kept.reduce((sum, row) => sum + row.message.body.byteLength, 0);
    context.forgetReadyBytes(state.readyBytes - keptBytes);
    state.readyBytes = keptBytes;
    state.ready = kept;
  }
  return purged;
}
