/** Checking the store's options and opening its database, even on a full disk. Private to store/. */
import type { DatabaseSync } from "node:sqlite";
import { checkPositiveInteger } from "./_arguments.ts";
import { openStoreDatabase } from "./_database.ts";
import { type DiskGuard, isNoSpace } from "./_disk_guard.ts";
import type { StoreOptions } from "./store_types.ts";

/** Throws RangeError naming the first bad option. */
export function checkOptions(options: StoreOptions): void {
  checkPositiveInteger(options.maxSizeBytes, "maxSizeBytes", "open message store");
  for (
    const field of [
      "commitWindowMs",
      "ackWindowMs",
      "purgeIntervalMs",
      "minFreeBytes",
      "reserveBytes",
    ] as const
  ) {
    const value = options[field];
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new RangeError(
        `Cannot open message store: ${field} must be a number \u2265 0, got ${value}`,
      );
    }
  }
  for (const field of ["maxBatchMessages", "maxBatchBytes", "maxDatabaseBytes"] as const) {
    const value = options[field];
    if (value !== undefined) checkPositiveInteger(value, field, "open message store");
  }
  const { pageBytes } = options;
  if (
    pageBytes !== undefined &&
    !(Number.isInteger(pageBytes) && pageBytes >= 512 && pageBytes <= 65536 &&
      (pageBytes & (pageBytes - 1)) === 0)
  ) {
    throw new RangeError(
      `Cannot open message store: pageBytes must be a power of two from 512 to 65536, got ${pageBytes}`,
    );
  }
}

/** Opens the database; on a full disk, once more after giving back the reserve. */
export function openDatabase(path: string, options: StoreOptions, guard: DiskGuard): DatabaseSync {
  // FULL is SQLite's NORMAL plus the store's own WAL sync after each commit (see Committer).
  const databaseOptions = {
    synchronous: "NORMAL" as const,
    ...(options.maxDatabaseBytes !== undefined
      ? { maxDatabaseBytes: options.maxDatabaseBytes }
      : {}),
    ...(options.pageBytes !== undefined ? { pageBytes: options.pageBytes } : {}),
    compatible: options.compatibleFormat ?? false,
  };
  try {
    return openStoreDatabase(path, databaseOptions);
  } catch (error) {
    if (!isNoSpace(error) || !guard.releaseReserve("the store could not open")) throw error;
    return openStoreDatabase(path, databaseOptions);
  }
}

/**
 * The WAL the store fdatasyncs after each commit with `synchronous: "FULL"` (the default);
 * undefined with "NORMAL". The schema in place means the open wrote nothing, so the WAL may not
 * exist yet: an empty one is what SQLite would make.
 */
export function openWalToSync(path: string, options: StoreOptions): Deno.FsFile | undefined {
  if ((options.synchronous ?? "FULL") !== "FULL") return undefined;
  return Deno.openSync(`${path}-wal`, { read: true, write: true, create: true, mode: 0o600 });
}
