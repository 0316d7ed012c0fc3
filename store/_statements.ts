/**
 * The prepared statements the store runs, compiled once per open (the multi-row ones of the hot
 * path are in _batch_sql.ts). Private to store/.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/**
 * A row of `deliverable`: priority, seq, size, enqueued_at, expires_at, properties, body, logged
 * (properties and body null when the body row is missing; logged: the body log segment, by its
 * first seq, when the body is there and `body` holds where).
 */
export type DeliverableRow = [
  number,
  number,
  number,
  number,
  number | null,
  string | null,
  Uint8Array | null,
  number | null,
];

/** Every statement of the store, by what it does. */
export interface StoreStatements {
  /** (endpoint, priority, seq); `changes` tells whether the row was still there. */
  deleteQueueRow: StatementSync;
  /** (seq): deletes the body when this was its last reference. */
  deleteLastReference: StatementSync;
  /** (seq): drops one reference to a body that others still use. */
  dropReference: StatementSync;
  /** (value) */
  setLastSeq: StatementSync;
  lastSeq: StatementSync;
  /** (name) -> id */
  insertEndpoint: StatementSync;
  /** -> id, name */
  allEndpoints: StatementSync;
  /**
   * -> endpoint, priority, count, bytes, and of the rows' expiry: floor (earliest), latest,
   * expiring (rows that expire), shortest and longest TTL (ms)
   */
  queueTotals: StatementSync;
  /**
   * (endpoint, now, after priority, after seq, max seq, limit) -> {@linkcode DeliverableRow}s
   * (arrays) of unexpired rows after (priority, seq) with a seq up to max seq, in delivery order.
   */
  deliverable: StatementSync;
  /**
   * (endpoint, now, after priority, after seq, limit) -> priority, seq, size, expires_at of the
   * expired rows after (priority, seq), in delivery order: a scan of the whole queue.
   */
  expiredRows: StatementSync;
  /** (endpoint, priority, after seq, limit) -> seq, size, expires_at in delivery order. */
  rowsOfPriority: StatementSync;
  /** (first seq, end seq) -> a row when a message in [first, end) has a logged body. */
  loggedBetween: StatementSync;
  /** (endpoint) -> expiry: the earliest expires_at of the queue, or null. */
  expiryFloor: StatementSync;
  /** (endpoint, priority) -> priority, enqueued_at of the oldest row of the next priority up */
  firstAfterPriority: StatementSync;
}

/** Prepares every statement against the store schema. */
export function prepareStatements(db: DatabaseSync): StoreStatements {
  const deliverable = db.prepare(
    "SELECT q.priority, q.seq, q.size, q.enqueued_at, q.expires_at, m.properties, m.body, " +
      "m.logged " +
      "FROM queue q LEFT JOIN messages m ON m.seq = q.seq " +
      "WHERE q.endpoint = ? AND (q.expires_at IS NULL OR q.expires_at > ?) " +
      "AND (q.priority, q.seq) > (?, ?) AND q.seq <= ? ORDER BY q.priority, q.seq LIMIT ?",
  );
  // node:sqlite has it (Node 24, Deno 2.9); Deno's type declarations do not list it yet.
  (deliverable as StatementSync & { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  return {
    deleteQueueRow: db.prepare("DELETE FROM queue WHERE endpoint = ? AND priority = ? AND seq = ?"),
    deleteLastReference: db.prepare("DELETE FROM messages WHERE seq = ? AND refs <= 1"),
    dropReference: db.prepare("UPDATE messages SET refs = refs - 1 WHERE seq = ?"),
    setLastSeq: db.prepare("UPDATE meta SET value = ? WHERE key = 'last_seq'"),
    lastSeq: db.prepare(
      "SELECT max((SELECT value FROM meta WHERE key = 'last_seq'), " +
        "coalesce((SELECT max(seq) FROM messages), 0)) AS seq",
    ),
    insertEndpoint: db.prepare("INSERT INTO endpoints(name) VALUES (?) RETURNING id"),
    allEndpoints: db.prepare("SELECT id, name FROM endpoints"),
    queueTotals: db.prepare(
      "SELECT endpoint, priority, count(*) AS count, sum(size) AS bytes, " +
        "min(expires_at) AS floor, max(expires_at) AS latest, count(expires_at) AS expiring, " +
        "min(expires_at - enqueued_at) AS shortest, max(expires_at - enqueued_at) AS longest " +
        "FROM queue GROUP BY endpoint, priority",
    ),
    deliverable,
    expiredRows: db.prepare(
      "SELECT priority, seq, size, expires_at FROM queue WHERE endpoint = ? AND expires_at <= ? " +
        "AND (priority, seq) > (?, ?) ORDER BY priority, seq LIMIT ?",
    ),
    rowsOfPriority: db.prepare(
      "SELECT seq, size, expires_at FROM queue WHERE endpoint = ? AND priority = ? AND seq > ? " +
        "ORDER BY seq LIMIT ?",
    ),
    loggedBetween: db.prepare(
      "SELECT 1 AS found FROM messages WHERE seq >= ? AND seq < ? AND logged IS NOT NULL LIMIT 1",
    ),
    expiryFloor: db.prepare("SELECT min(expires_at) AS expiry FROM queue WHERE endpoint = ?"),
    firstAfterPriority: db.prepare(
      "SELECT priority, enqueued_at FROM queue WHERE endpoint = ? AND priority > ? " +
        "ORDER BY priority, seq LIMIT 1",
    ),
  };
}
