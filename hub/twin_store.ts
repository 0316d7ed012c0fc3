/**
 * Twins, persisted: one row per identity (`device` or `device/module`) with desired and reported
 * properties and their `$version`s, in `<state>/hub/twins.db` (node:sqlite, WAL).
 */
import { DatabaseSync } from "node:sqlite";
import { createPrivateFile } from "../core/state_dir.ts";
import { checkTwinSize, diffProperties, mergePatch, type TwinProperties } from "../iothub/mod.ts";

/** One identity's twin. */
export interface Twin {
  desired: TwinProperties;
  desiredVersion: number;
  reported: TwinProperties;
  reportedVersion: number;
}

/** What a desired change produced: the patch to push (with `$version`), or none. */
export interface DesiredChange {
  twin: Twin;
  /** The patch subscribers receive, including `$version`; undefined when nothing changed. */
  patch: TwinProperties | undefined;
}

/** Persisted twins. */
export interface TwinStore {
  get(key: string): Twin;
  /** Applies a reported patch; returns the new reported version. @throws {TwinPatchError} */
  patchReported(key: string, patch: TwinProperties): number;
  /** Replaces the reported properties (used for `$edgeAgent`). */
  replaceReported(key: string, reported: TwinProperties): number;
  /** Applies a desired patch. @throws {TwinPatchError} */
  patchDesired(key: string, patch: TwinProperties): DesiredChange;
  /** Replaces the desired properties (from a deployment). @throws {TwinPatchError} */
  replaceDesired(key: string, desired: TwinProperties): DesiredChange;
  keys(): string[];
  close(): void;
}

function emptyTwin(): Twin {
  return { desired: {}, desiredVersion: 1, reported: {}, reportedVersion: 1 };
}

/**
 * Opens (or creates) the twin database at `path`.
 *
 * @throws naming the file when it cannot be opened.
 */
export function openTwinStore(path: string): TwinStore {
  let db: DatabaseSync;
  try {
    createPrivateFile(path);
    db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    db.exec(`CREATE TABLE IF NOT EXISTS twins (
      key TEXT PRIMARY KEY, desired TEXT NOT NULL, desired_version INTEGER NOT NULL,
      reported TEXT NOT NULL, reported_version INTEGER NOT NULL)`);
  } catch (cause) {
    throw new Error(`Cannot open twin store ${path}: ${(cause as Error).message}`, { cause });
  }
  const select = db.prepare(
    "SELECT desired, desired_version, reported, reported_version FROM twins WHERE key = ?",
  );
  const upsert = db.prepare(
    `INSERT INTO twins (key, desired, desired_version, reported, reported_version)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET desired = excluded.desired,
     desired_version = excluded.desired_version, reported = excluded.reported,
     reported_version = excluded.reported_version`,
  );
  const cache = new Map<string, Twin>();

  function get(key: string): Twin {
    const cached = cache.get(key);
    if (cached) return cached;
    const row = select.get(key) as
      | { desired: string; desired_version: number; reported: string; reported_version: number }
      | undefined;
    const twin = row
      ? {
        desired: JSON.parse(row.desired),
        desiredVersion: Number(row.desired_version),
        reported: JSON.parse(row.reported),
        reportedVersion: Number(row.reported_version),
      }
      : emptyTwin();
    cache.set(key, twin);
    return twin;
  }

  function save(key: string, twin: Twin): void {
    upsert.run(
      key,
      JSON.stringify(twin.desired),
      twin.desiredVersion,
      JSON.stringify(twin.reported),
      twin.reportedVersion,
    );
    cache.set(key, twin);
  }

  function setDesired(key: string, desired: TwinProperties): DesiredChange {
    checkTwinSize("desired", desired);
    const twin = get(key);
    const patch = diffProperties(twin.desired, desired);
    if (Object.keys(patch).length === 0) return { twin, patch: undefined };
    const next = { ...twin, desired, desiredVersion: twin.desiredVersion + 1 };
    save(key, next);
    return { twin: next, patch: { ...patch, $version: next.desiredVersion } };
  }

  function setReported(key: string, reported: TwinProperties): number {
    checkTwinSize("reported", reported);
    const twin = get(key);
    const next = { ...twin, reported, reportedVersion: twin.reportedVersion + 1 };
    save(key, next);
    return next.reportedVersion;
  }

  return {
    get,
    patchReported: (key, patch) => setReported(key, mergePatch(get(key).reported, patch)),
    replaceReported: (key, reported) => setReported(key, mergePatch({}, reported)),
    patchDesired: (key, patch) => setDesired(key, mergePatch(get(key).desired, patch)),
    replaceDesired: (key, desired) => setDesired(key, mergePatch({}, desired)),
    keys() {
      const rows = db.prepare("SELECT key FROM twins").all() as { key: string }[];
      return [...new Set([...rows.map((row) => row.key), ...cache.keys()])];
    },
    close: () => db.close(),
  };
}
