/**
 * Support bundles (`ledge support-bundle`): one `.tar.gz` with what someone helping an operator
 * needs - ledge's own logs (journald), every module's logs, the config with secrets redacted,
 * identities without keys, module status, certificates, queues, a metrics snapshot, `ledge
 * check`'s results and the version - and a `MISSING.txt` naming what could not be had and why.
 * Every text is scrubbed of SAS keys, SAS signatures and private keys before it is archived.
 *
 * @example
 * ```ts
 * const result = await writeSupportBundle("support.tar.gz", {
 *   config,
 *   configPath: undefined,
 *   sinceSeconds: Math.floor(Date.now() / 1000) - 3600,
 * });
 * console.log(result.files, result.gaps);
 * ```
 *
 * @module
 */
import { gzipSync } from "node:zlib";
import { type CollectOptions, collectSupportFiles, type SupportGap } from "./collect.ts";
import { scrubSecrets } from "./redact.ts";
import { tarArchive, type TarEntry } from "./tar.ts";

export type { CollectOptions, SupportFile, SupportGap } from "./collect.ts";
export { redactConfig, REDACTED, scrubSecrets } from "./redact.ts";
export { tarArchive, type TarEntry } from "./tar.ts";

/** What {@linkcode writeSupportBundle} wrote. */
export interface SupportBundle {
  /** The archive written. */
  path: string;
  /** The folder every file sits in inside the archive. */
  folder: string;
  /** Paths of the files inside `folder`. */
  files: string[];
  /** What is missing, and why. */
  gaps: SupportGap[];
  sizeBytes: number;
}

/** The default file name: `ledge-support-<UTC time>.tar.gz`. */
export function defaultBundleName(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
  return `ledge-support-${stamp}.tar.gz`;
}

/**
 * Collects the bundle and writes it to `path` (mode 0600; an existing file is an error unless
 * `overwrite`).
 *
 * @throws when `path` cannot be written; nothing is written then.
 */
export async function writeSupportBundle(
  path: string,
  options: CollectOptions & { overwrite?: boolean },
): Promise<SupportBundle> {
  if (!options.overwrite) {
    const exists = await Deno.lstat(path).then(() => true, () => false);
    if (exists) {
      throw new Error(`Cannot write ${path}: the file exists (use --force to replace it)`);
    }
  }
  const { files, gaps } = await collectSupportFiles(options);
  const name = path.split("/").pop() ?? "ledge-support";
  const folder = name.replace(/\.tar\.gz$|\.tgz$/, "") || "ledge-support";
  const missing = gaps.length === 0
    ? "Nothing is missing.\n"
    : gaps.map((gap) => `${gap.item}: ${gap.reason}`).join("\n") + "\n";
  const mtime = new Date();
  const entries: TarEntry[] = [...files, { path: "MISSING.txt", text: missing }].map((file) => ({
    path: `${folder}/${file.path}`,
    data: scrubSecrets(file.text),
    mode: 0o600,
    mtime,
  }));
  const archive = gzipSync(tarArchive(entries));
  const temporary = `${path}.partial-${Deno.pid}`;
  try {
    await Deno.writeFile(temporary, archive, { mode: 0o600 });
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw new Error(`Cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
  return {
    path,
    folder,
    files: [...files.map((file) => file.path), "MISSING.txt"],
    gaps,
    sizeBytes: archive.length,
  };
}
