/**
 * One JSON document of the fleet's state (`<state>/fleet/*.json`, 0600: enrollment keys are
 * secrets), loaded at start and saved atomically. Saves coalesce: while one write is on disk,
 * every change made meanwhile goes into the next, so a burst of changes (a thousand devices
 * enrolling at once) costs a few writes, and each caller still resolves only once a write that
 * holds its change is durable.
 *
 * @module
 */
import type { z } from "zod";
import { CoalescedWrites } from "../core/coalesced_writes.ts";
import { writeFileAtomic } from "../core/atomic_file.ts";

/** A persisted document. */
export interface JsonFile<T> {
  readonly path: string;
  /** The document (mutate it, then call {@linkcode JsonFile.save}). */
  value: T;
  /** Resolves when a write holding every change made so far is durable. */
  save(): Promise<void>;
}

/**
 * Loads `path` with `schema` (or `initial()` when missing).
 *
 * @throws naming the file and the first invalid field when it is not what `schema` expects (the
 * file is left as it is).
 */
export async function openJsonFile<T>(
  path: string,
  schema: z.ZodType<T>,
  initial: () => T,
): Promise<JsonFile<T>> {
  let value: T;
  try {
    const parsed = schema.safeParse(JSON.parse(await Deno.readTextFile(path)));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`Cannot load ${path}: ${issue.path.join(".")}: ${issue.message}`);
    }
    value = parsed.data;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      if (error instanceof SyntaxError) {
        throw new Error(`Cannot load ${path}: not JSON (${error.message})`, { cause: error });
      }
      throw error;
    }
    value = initial();
  }
  const writes = new CoalescedWrites(() =>
    writeFileAtomic(path, JSON.stringify(file.value) + "\n", { mode: 0o600 })
  );
  const file: JsonFile<T> = { path, value, save: () => writes.request() };
  return file;
}
