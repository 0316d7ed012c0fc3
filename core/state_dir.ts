/**
 * The state directory: created 0700 on first start, checked writable before anything starts.
 */

/** Creates `dir` (0700) if missing, tightens its mode, and proves it is writable. */
export async function prepareStateDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.chmod(dir, 0o700);
    const probe = `${dir}/.write-test-${Deno.pid}`;
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot use state dir ${dir}: ${reason}`, { cause: error });
  }
}

/** The management socket's path inside the state dir. */
export function mgmtSocketPath(stateDir: string): string {
  return `${stateDir}/mgmt.sock`;
}
