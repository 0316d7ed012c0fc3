/**
 * The executable ledge runs from, and the files beside it that a self-update uses (the same
 * protocol as scripts/launcher.sh):
 *
 * - `<exe>.previous`: the executable before the last update (kept; a rollback puts it back);
 * - `<exe>.update`: the trial marker, written before the swap and removed when the new version
 *   confirms (`key=value` lines: to_version, to_sha256, from_version, window_seconds, attempts;
 *   `reason` when the new version gives up);
 * - `<exe>.update-result`: written by the launcher when it rolled back (result, version,
 *   from_version, reason, at), read and removed by the next start;
 * - `<exe>.failed`: the executable that was rolled back.
 */
import { writeFileAtomic } from "../../core/atomic_file.ts";

/** How this ledge runs. */
export interface Executable {
  path: string;
  /** `self-extracting`: the release launcher supervises `run` and rolls back by itself. */
  kind: "self-extracting" | "compiled";
}

/** The executable, or undefined when ledge runs as a script (`deno run main.ts`, the bundle). */
export function currentExecutable(env = Deno.env.toObject()): Executable | undefined {
  if (env.LEDGE_EXECUTABLE) return { path: env.LEDGE_EXECUTABLE, kind: "self-extracting" };
  if (Deno.mainModule.includes("deno-compile-")) return { path: Deno.execPath(), kind: "compiled" };
  return undefined;
}

/** The trial marker. */
export interface TrialMarker {
  toVersion: string;
  toSha256: string;
  fromVersion: string;
  windowSeconds: number;
  attempts: number;
  reason?: string;
}

/** What the launcher wrote after a rollback. */
export interface RollbackResult {
  version: string;
  fromVersion: string;
  reason: string;
  atMs: number;
}

function parseFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !fields.has(line.slice(0, eq))) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return fields;
}

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Reads the trial marker beside `exe`, if any. */
export async function readMarker(exe: string): Promise<TrialMarker | undefined> {
  const text = await readIfThere(`${exe}.update`);
  if (text === undefined) return undefined;
  const fields = parseFields(text);
  const reason = fields.get("reason");
  return {
    toVersion: fields.get("to_version") ?? "",
    toSha256: fields.get("to_sha256") ?? "",
    fromVersion: fields.get("from_version") ?? "",
    windowSeconds: Number(fields.get("window_seconds") ?? 0) || 300,
    attempts: Number(fields.get("attempts") ?? 0) || 0,
    ...(reason ? { reason } : {}),
  };
}

/** Writes the trial marker beside `exe`. */
export async function writeMarker(exe: string, marker: TrialMarker): Promise<void> {
  const oneLine = (text: string) => text.replace(/[\r\n]+/g, " ");
  await writeFileAtomic(
    `${exe}.update`,
    [
      `to_version=${marker.toVersion}`,
      `to_sha256=${marker.toSha256}`,
      `from_version=${marker.fromVersion}`,
      `window_seconds=${marker.windowSeconds}`,
      `attempts=${marker.attempts}`,
      ...(marker.reason ? [`reason=${oneLine(marker.reason)}`] : []),
      "",
    ].join("\n"),
    { mode: 0o644 },
  );
}

/** Removes the trial marker: the new version is confirmed. */
export async function removeMarker(exe: string): Promise<void> {
  await Deno.remove(`${exe}.update`).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

/** Reads and removes what the launcher wrote after a rollback, if anything. */
export async function takeRollbackResult(exe: string): Promise<RollbackResult | undefined> {
  const path = `${exe}.update-result`;
  const text = await readIfThere(path);
  if (text === undefined) return undefined;
  const fields = parseFields(text);
  await Deno.remove(path).catch(() => {});
  return {
    version: fields.get("version") ?? "",
    fromVersion: fields.get("from_version") ?? "",
    reason: fields.get("reason") || "the new version did not confirm",
    atMs: (Number(fields.get("at")) || Date.now() / 1000) * 1000,
  };
}

/**
 * Puts `candidate` in place of `exe`, keeping the current one as `<exe>.previous` and writing the
 * trial marker first, so that whatever starts next knows a new version is on trial.
 */
export async function swapIn(exe: string, candidate: string, marker: TrialMarker): Promise<void> {
  await Deno.remove(`${exe}.previous.tmp`).catch(() => {});
  await Deno.link(exe, `${exe}.previous.tmp`);
  await Deno.rename(`${exe}.previous.tmp`, `${exe}.previous`);
  await writeMarker(exe, marker);
  await Deno.chmod(candidate, 0o755);
  await Deno.rename(candidate, exe);
}

/** Puts `<exe>.previous` back (a compiled binary rolling itself back); the failed one is kept. */
export async function putPreviousBack(exe: string): Promise<void> {
  await Deno.remove(`${exe}.failed`).catch(() => {});
  await Deno.link(exe, `${exe}.failed`);
  await Deno.rename(`${exe}.previous`, exe);
  await removeMarker(exe);
}
