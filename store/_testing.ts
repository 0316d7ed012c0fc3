/** Helpers for the store's tests. Private to store/. */
import { DatabaseSync } from "node:sqlite";
import type { StoredMessage } from "./stored_message.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A message whose body is `text`, with one app and one system property. */
export function textMessage(text: string): StoredMessage {
  return {
    body: encoder.encode(text),
    appProperties: { kind: "test" },
    systemProperties: { messageId: text },
  };
}

/** The body of a stored message as text. */
export function bodyText(message: StoredMessage): string {
  return decoder.decode(message.body);
}

/** A settable clock starting at `startMs`. */
export function manualClock(
  startMs = 1_700_000_000_000,
): { now: () => number; advance(ms: number): void } {
  let current = startMs;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
  };
}

/** A fresh temp dir, removed by the returned disposer. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "ledge-store-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

/** Bytes the store occupies on disk: the database file, its WAL and its body log's segments. */
export function storeFileBytes(path: string): number {
  let total = 0;
  const segments = `${path}-bodies`;
  let logged: string[] = [];
  try {
    logged = [...Deno.readDirSync(segments)].map((entry) => `${segments}/${entry.name}`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const file of [path, `${path}-wal`, ...logged]) {
    try {
      total += Deno.statSync(file).size;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return total;
}

/** The first column of `sql`'s first row, read from the store file at `path` (opened read-only). */
export function fileNumber(path: string, sql: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db.prepare(sql).get();
    return Number(row === undefined ? undefined : Object.values(row)[0]);
  } finally {
    db.close();
  }
}
