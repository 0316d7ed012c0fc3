/**
 * The state directory: created 0700 on first start, checked writable before anything starts.
 * Everything in it is the daemon's alone: files 0600, directories 0700. Two kinds of entry are
 * reachable on purpose: the management socket (0660, for the CLI's group) and each module's
 * socket directory `mnt/<module>/` (0755, sockets 0666), which is bind-mounted into that module's
 * container, where the module may run as any user; the state dir's own 0700 keeps the host's
 * other users out of both.
 */

/** Directories whose subdirectories are reachable on purpose (see the module doc). */
const SHARED_SUBDIRS = new Set(["mnt"]);

/** Creates `dir` (0700) if missing, tightens its mode, and proves it is writable. */
export async function prepareStateDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.chmod(dir, 0o700);
    const probe = `${dir}/.write-test-${Deno.pid}`;
    await Deno.writeTextFile(probe, "", { mode: 0o600 });
    await Deno.remove(probe);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot use state dir ${dir}: ${reason}`, { cause: error });
  }
}

/**
 * Tightens what an older ledge (or a hand) left too open under `dir`: regular files to 0600,
 * directories to 0700 (except the module socket directories under `mnt/`). Sockets and symlinks
 * are left alone. Resolves with the paths it changed.
 */
export async function tightenStateDir(dir: string): Promise<string[]> {
  const changed: string[] = [];
  async function walk(path: string, shared: boolean): Promise<void> {
    for await (const entry of Deno.readDir(path)) {
      const child = `${path}/${entry.name}`;
      if (entry.isSymlink) continue;
      if (entry.isDirectory) {
        if (!shared) await tighten(child, 0o700);
        await walk(child, path === dir && SHARED_SUBDIRS.has(entry.name));
      } else if (entry.isFile) {
        await tighten(child, 0o600);
      }
    }
  }
  async function tighten(path: string, mode: number): Promise<void> {
    const info = await Deno.lstat(path).catch(() => undefined);
    if (info?.mode === null || info === undefined || (info.mode & 0o777 & ~mode) === 0) return;
    await Deno.chmod(path, info.mode & 0o777 & mode);
    changed.push(path);
  }
  await walk(dir, false);
  return changed;
}

/**
 * Creates `path` empty with mode 0600 unless it exists, so a database opened on it next starts
 * private: SQLite gives its -wal and -shm files the database file's mode.
 */
export function createPrivateFile(path: string): void {
  try {
    Deno.openSync(path, { createNew: true, write: true, mode: 0o600 }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
}

/** The management socket's path inside the state dir. */
export function mgmtSocketPath(stateDir: string): string {
  return `${stateDir}/mgmt.sock`;
}
