/**
 * The store's hot path in SQL: the messages of a group commit inserted with multi-row INSERTs,
 * acks deleted with multi-row DELETEs. A statement per row costs a binding and a step each;
 * measured (CPU time, 128 messages of 200 B per commit), a row per statement costs ~5 us per
 * message for both inserts, 32 rows per statement ~2.8 us; 128 rows saved another ~0.2 us in
 * SQLite but cost more in JS (the store's flow, bench/store.ts). Statements are prepared for
 * power-of-two row counts up to 32 only (6 per kind, not one per count): a commit of n rows runs
 * n / 32 full statements and one per bit of the remainder. Private to store/.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { type AckedRows, noAckedRows } from "./_endpoint_state.ts";

/** Most rows per statement: SQLite binds at most 32766 parameters; 32 rows of 6 is far below. */
const ROWS = 32;
/**
 * Acks of consecutive seqs of one queue (an upstream drain acks in order) are deleted as a range
 * from this many on: two statements with 4 and 3 parameters instead of a key list.
 */
const MIN_RANGE = 4;

/**
 * Calls `run(start, count)` over `total` rows in chunks whose sizes are powers of two up to
 * {@linkcode ROWS}: full chunks first, then the remainder's bits, largest first.
 */
function forChunks(total: number, run: (start: number, count: number) => void): void {
  let start = 0;
  for (; total - start >= ROWS; start += ROWS) run(start, ROWS);
  for (let bit = ROWS >> 1; bit > 0; bit >>= 1) {
    if ((total - start) & bit) {
      run(start, bit);
      start += bit;
    }
  }
}

/**
 * The end (exclusive) of the run of acks from `start` that are consecutive seqs of one queue
 * and priority: exactly the rows of that queue between the first seq and the last.
 */
function rangeEnd({ states, priorities, seqs }: AckedRows, start: number): number {
  const state = states[start]!;
  const priority = priorities[start]!;
  let end = start + 1;
  while (
    end < seqs.length && states[end] === state && priorities[end] === priority &&
    seqs[end] === seqs[end - 1]! + 1
  ) end++;
  return end;
}

/** Parameters of one `messages` row: seq, refs, properties, body. */
export const MESSAGE_COLUMNS = 5;
/** Parameters of one `queue` row: endpoint, priority, seq, size, enqueued_at, expires_at. */
export const QUEUE_COLUMNS = 6;

/** A cache of one statement per row count, built from the SQL for n rows. */
class StatementsByRows {
  readonly #db: DatabaseSync;
  readonly #sql: (rows: number) => string;
  readonly #byRows: (StatementSync | undefined)[] = [];

  constructor(db: DatabaseSync, sql: (rows: number) => string) {
    this.#db = db;
    this.#sql = sql;
  }

  get(rows: number): StatementSync {
    return this.#byRows[rows] ??= this.#db.prepare(this.#sql(rows));
  }
}

function tuples(rows: number, columns: number): string {
  const tuple = `(${Array(columns).fill("?").join(", ")})`;
  return Array(rows).fill(tuple).join(", ");
}

/** Multi-row statements of the hot path. */
export class BatchStatements {
  readonly #insertMessages: StatementsByRows;
  readonly #insertQueueRows: StatementsByRows;
  readonly #deleteQueueRows: StatementsByRows;
  readonly #deleteBodies: StatementsByRows;
  readonly #deleteQueueRange: StatementSync;
  readonly #deleteBodyRange: StatementSync;
  readonly #deleteLastReference: StatementSync;
  readonly #dropReference: StatementSync;
  /**
   * Parameter arrays kept across ack commits. Each chunk empties them with `length = 0`, which
   * frees V8's backing store, so a chunk still allocates its storage anew.
   */
  readonly #keys: SQLInputValue[] = [];
  readonly #seqs: SQLInputValue[] = [];
  /** Acks that are not part of a range, gathered for the multi-row statements. */
  readonly #scattered: AckedRows = noAckedRows();

  constructor(db: DatabaseSync) {
    this.#insertMessages = new StatementsByRows(
      db,
      (n) => `INSERT INTO messages(seq, refs, properties, body, logged) VALUES ${tuples(n, 5)}`,
    );
    this.#insertQueueRows = new StatementsByRows(
      db,
      (n) =>
        "INSERT INTO queue(endpoint, priority, seq, size, enqueued_at, expires_at) " +
        `VALUES ${tuples(n, 6)}`,
    );
    this.#deleteQueueRows = new StatementsByRows(
      db,
      (n) => `DELETE FROM queue WHERE (endpoint, priority, seq) IN (VALUES ${tuples(n, 3)})`,
    );
    this.#deleteBodies = new StatementsByRows(
      db,
      (n) => `DELETE FROM messages WHERE seq IN (${Array(n).fill("?").join(", ")}) AND refs <= 1`,
    );
    this.#deleteQueueRange = db.prepare(
      "DELETE FROM queue WHERE endpoint = ? AND priority = ? AND seq BETWEEN ? AND ?",
    );
    this.#deleteBodyRange = db.prepare(
      "DELETE FROM messages WHERE seq BETWEEN ? AND ? AND refs <= 1",
    );
    this.#deleteLastReference = db.prepare("DELETE FROM messages WHERE seq = ? AND refs <= 1");
    this.#dropReference = db.prepare("UPDATE messages SET refs = refs - 1 WHERE seq = ?");
  }

  /** Inserts rows whose parameters lie flat in `params`, `columns` per row. */
  #insert(statements: StatementsByRows, params: SQLInputValue[], columns: number): void {
    const total = params.length / columns;
    forChunks(total, (start, count) => {
      const chunk = count === total
        ? params
        : params.slice(start * columns, (start + count) * columns);
      statements.get(count).run(...chunk);
    });
  }

  /** Inserts message bodies: `params` holds MESSAGE_COLUMNS values per message. */
  insertMessages(params: SQLInputValue[]): void {
    this.#insert(this.#insertMessages, params, MESSAGE_COLUMNS);
  }

  /** Inserts queue rows: `params` holds QUEUE_COLUMNS values per row. */
  insertQueueRows(params: SQLInputValue[]): void {
    this.#insert(this.#insertQueueRows, params, QUEUE_COLUMNS);
  }

  /**
   * Deletes acked queue rows and each body with its last reference.
   * Throws when a queue row is missing (an ack the store did not lease): the caller then rolls
   * back and deletes them one at a time, which tolerates that.
   */
  deleteAcked(rows: AckedRows): void {
    const scattered = this.#scattered;
    try {
      for (let start = 0; start < rows.seqs.length;) {
        const end = rangeEnd(rows, start);
        if (end - start >= MIN_RANGE) this.#deleteRange(rows, start, end);
        else {
          for (let i = start; i < end; i++) {
            scattered.states.push(rows.states[i]!);
            scattered.priorities.push(rows.priorities[i]!);
            scattered.seqs.push(rows.seqs[i]!);
          }
        }
        start = end;
      }
      forChunks(scattered.seqs.length, (start, count) => this.#deleteChunk(start, count));
    } finally {
      scattered.states.length = scattered.priorities.length = scattered.seqs.length = 0;
    }
  }

  /** Deletes the acked rows `[start..end)`, consecutive seqs of one queue and priority. */
  #deleteRange({ states, priorities, seqs }: AckedRows, start: number, end: number) {
    const count = end - start;
    const first = seqs[start]!;
    const last = seqs[end - 1]!;
    const deleted = Number(
      this.#deleteQueueRange.run(states[start]!.id, priorities[start]!, first, last).changes,
    );
    if (deleted !== count) throw new Error(`${count - deleted} acked queue rows were already gone`);
    if (Number(this.#deleteBodyRange.run(first, last).changes) === count) return;
    // Bodies other queues still reference: one at a time, as below.
    for (let i = start; i < end; i++) this.#dropBodyReference(seqs[i]!);
  }

  /** Deletes the scattered acks `[start, start + count)`. */
  #deleteChunk(start: number, count: number): void {
    const { states, priorities, seqs: acked } = this.#scattered;
    const keys = this.#keys;
    const seqs = this.#seqs;
    keys.length = 0;
    seqs.length = 0;
    for (let i = start; i < start + count; i++) {
      keys.push(states[i]!.id, priorities[i]!, acked[i]!);
      seqs.push(acked[i]!);
    }
    const deleted = Number(this.#deleteQueueRows.get(count).run(...keys).changes);
    if (deleted !== count) throw new Error(`${count - deleted} acked queue rows were already gone`);
    const bodies = Number(this.#deleteBodies.get(count).run(...seqs).changes);
    if (bodies === count) return;
    // Bodies that other queues still reference (or two acks of one body in this chunk): one at a
    // time, which deletes the body with its last reference.
    for (let i = start; i < start + count; i++) this.#dropBodyReference(acked[i]!);
  }

  /** Drops one reference to body `seq`, deleting it with its last; none if it is gone. */
  #dropBodyReference(seq: number): void {
    if (Number(this.#deleteLastReference.run(seq).changes) === 0) this.#dropReference.run(seq);
  }
}
