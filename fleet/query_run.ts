/**
 * Runs a parsed query over twin documents: filter, group, project, page. Rows come in the
 * order of their keys (`deviceId`, then `deviceId/moduleId`), so pages are stable while the
 * fleet changes: a continuation token remembers the last key returned, not an offset, and a
 * device added or removed between two pages neither repeats nor hides another one. Grouped
 * results are few and are paged by offset.
 *
 * @module
 */
import type { JsonValue, Projection, QueryAst, QueryValue } from "./query_ast.ts";
import { holds, type TwinDoc, valueAt } from "./query_eval.ts";

/** One twin to query, with the key it sorts and pages by. */
export interface QueryRow {
  key: string;
  doc: TwinDoc;
}

/** One page of results. */
export interface QueryPage {
  items: JsonValue[];
  /** Pass it back for the next page; null when this was the last. */
  continuationToken: string | null;
}

/** Paging options. */
export interface PageOptions {
  /** Rows per page, 1-1000 (default 100). */
  pageSize?: number;
  continuationToken?: string | undefined;
}

/** A continuation token that is not one this query gave out. */
export class ContinuationTokenError extends Error {
  override name = "ContinuationTokenError";
}

/** The default and largest page sizes. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

interface Cursor {
  /** Fingerprint of the query text. */
  q: string;
  /** Rows returned so far (for TOP). */
  n: number;
  /** Last key returned (row queries). */
  a?: string;
  /** Offset (grouped queries). */
  o?: number;
}

function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

function encodeCursor(cursor: Cursor): string {
  return btoa(JSON.stringify(cursor)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(token: string, text: string): Cursor {
  let cursor: Cursor;
  try {
    cursor = JSON.parse(atob(token.replaceAll("-", "+").replaceAll("_", "/")));
  } catch {
    throw new ContinuationTokenError(
      "Cannot continue the query: the continuation token is malformed",
    );
  }
  if (typeof cursor !== "object" || cursor === null || cursor.q !== fingerprint(text)) {
    throw new ContinuationTokenError(
      "Cannot continue the query: the continuation token belongs to another query",
    );
  }
  if (!Number.isInteger(cursor.n) || cursor.n < 0) {
    throw new ContinuationTokenError(
      "Cannot continue the query: the continuation token is malformed",
    );
  }
  return cursor;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Runs `ast` over `rows`, one page at a time. @throws {ContinuationTokenError} */
export function runQuery(
  ast: QueryAst,
  rows: readonly QueryRow[],
  options: PageOptions = {},
): QueryPage {
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE));
  const cursor = options.continuationToken === undefined || options.continuationToken === ""
    ? { q: fingerprint(ast.text), n: 0 }
    : decodeCursor(options.continuationToken, ast.text);
  const limit = ast.top === undefined ? pageSize : Math.min(pageSize, ast.top - cursor.n);
  if (limit <= 0) return { items: [], continuationToken: null };
  const grouped = ast.select !== "*" &&
    (ast.groupBy.length > 0 || ast.select.some((p) => p.kind === "aggregate"));
  if (grouped) return groupedPage(ast, rows, cursor, limit);

  const sorted = [...rows].sort((a, b) => compareKeys(a.key, b.key));
  const items: JsonValue[] = [];
  let last: string | undefined;
  let more = false;
  for (const row of sorted) {
    if (cursor.a !== undefined && compareKeys(row.key, cursor.a) <= 0) continue;
    if (!holds(ast.where, row.doc)) continue;
    if (items.length === limit) {
      more = true;
      break;
    }
    items.push(ast.select === "*" ? row.doc : project(ast.select, row.doc));
    last = row.key;
  }
  const returned = cursor.n + items.length;
  const done = !more || (ast.top !== undefined && returned >= ast.top);
  return {
    items,
    continuationToken: done ? null : encodeCursor({ q: cursor.q, n: returned, a: last! }),
  };
}

function project(projections: readonly Projection[], doc: TwinDoc): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const projection of projections) {
    if (projection.kind !== "path") continue;
    const value = valueAt(doc, projection.path.segments);
    if (value !== undefined) out[projection.name] = value;
  }
  return out;
}

function groupedPage(
  ast: QueryAst,
  rows: readonly QueryRow[],
  cursor: Cursor,
  limit: number,
): QueryPage {
  const groups = new Map<string, { values: QueryValue[]; docs: TwinDoc[] }>();
  for (const row of rows) {
    if (!holds(ast.where, row.doc)) continue;
    const values = ast.groupBy.map((path) => valueAt(row.doc, path.segments));
    const key = JSON.stringify(
      values.map((value) => value === undefined ? "\uffffundefined" : value),
    );
    let group = groups.get(key);
    if (!group) groups.set(key, group = { values, docs: [] });
    group.docs.push(row.doc);
  }
  // No GROUP BY: one row over everything that matched, even when nothing did (COUNT() = 0).
  if (ast.groupBy.length === 0 && groups.size === 0) groups.set("[]", { values: [], docs: [] });
  const ordered = [...groups.entries()].sort(([a], [b]) => compareKeys(a, b));
  const offset = cursor.o ?? 0;
  const page = ordered.slice(offset, offset + limit);
  const items = page.map(([, group]) => groupRow(ast, group.values, group.docs));
  const next = offset + page.length;
  const returned = cursor.n + items.length;
  const done = next >= ordered.length || (ast.top !== undefined && returned >= ast.top);
  return {
    items,
    continuationToken: done ? null : encodeCursor({ q: cursor.q, n: returned, o: next }),
  };
}

function groupRow(ast: QueryAst, values: readonly QueryValue[], docs: TwinDoc[]): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const projection of ast.select as readonly Projection[]) {
    let value: QueryValue;
    if (projection.kind === "path") {
      const key = JSON.stringify(projection.path.segments);
      const index = ast.groupBy.findIndex((path) => JSON.stringify(path.segments) === key);
      value = values[index];
    } else {
      value = aggregate(projection, docs);
    }
    if (value !== undefined) out[projection.name] = value;
  }
  return out;
}

function aggregate(
  projection: Extract<Projection, { kind: "aggregate" }>,
  docs: TwinDoc[],
): QueryValue {
  if (projection.fn === "COUNT") return docs.length;
  const numbers = docs
    .map((doc) => valueAt(doc, projection.path!.segments))
    .filter((value): value is number => typeof value === "number");
  if (numbers.length === 0) return undefined;
  switch (projection.fn) {
    case "SUM":
      return numbers.reduce((sum, x) => sum + x, 0);
    case "AVG":
      return numbers.reduce((sum, x) => sum + x, 0) / numbers.length;
    case "MIN":
      return numbers.reduce((min, x) => Math.min(min, x));
    case "MAX":
      return numbers.reduce((max, x) => Math.max(max, x));
  }
}
