/**
 * Writing a state file so that a crash, a power cut or a full disk leaves either the old file or
 * the new one, never a part: the text goes to a temp file beside it, is synced, and is renamed over
 * the old one.
 */
import { dirname } from "node:path";
import { writeAll } from "./write_all.ts";

/** How {@link writeFileAtomic} writes. */
export interface AtomicWriteOptions {
  /** File mode (default 0600: state files are private). */
  mode?: number;
  /**
   * Sync the file and its directory before and after the rename (default true). Off only for
   * files that are rebuilt from other state when lost, written too often to wait for the disk.
   */
  sync?: boolean;
}

/**
 * Writes `text` to `path` atomically.
 *
 * @throws {Error} "Cannot write <path>: <reason>" (a full disk included); `path` is then as it was
 *   and no temp file is left.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const { mode = 0o600, sync = true } = options;
  const temp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode });
    try {
      await writeAll(file, new TextEncoder().encode(text));
      if (sync) await file.sync();
    } finally {
      file.close();
    }
    await Deno.chmod(temp, mode);
    await Deno.rename(temp, path);
    if (sync) await syncDirectory(dirname(path));
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot write ${path}: ${reason}`, { cause: error });
  }
}

/** Makes a rename in `directory` durable (its entry is written with the directory). */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await Deno.open(directory, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}
