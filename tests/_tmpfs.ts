/**
 * A small tmpfs a test mounts for itself, to see what ledge does when its disk fills up: bounded
 * in size, unmounted by the disposer. Needs root (CI runs as root); `rootRequirement` ignores the
 * test elsewhere.
 */

/** The requirement of a test that mounts a tmpfs. */
export const rootRequirement = {
  what: "root",
  missing: Deno.uid() === 0 ? undefined : "not root (the test mounts a small tmpfs)",
};

async function run(command: string, args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command(command, { args, stderr: "piped" }).output();
  if (!success) {
    throw new Error(`Cannot ${command} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  }
}

/** A mounted tmpfs of `sizeBytes` at a new temp dir (mode 0700); unmounted and removed at dispose. */
export async function mountTmpfs(
  sizeBytes: number,
): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "ledge-tmpfs-" });
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0700`, "tmpfs", path]);
  } catch (error) {
    await Deno.remove(path);
    throw error;
  }
  return {
    path,
    async [Symbol.asyncDispose]() {
      await run("umount", [path]);
      await Deno.remove(path);
    },
  };
}

/** Writes `path` until the file system refuses more (ENOSPC); returns the bytes written. */
export async function fillDisk(path: string): Promise<number> {
  const file = await Deno.open(path, { create: true, write: true });
  const chunk = new Uint8Array(64 * 1024);
  let written = 0;
  try {
    for (let size = chunk.length; size >= 512;) {
      try {
        written += await file.write(chunk.subarray(0, size));
      } catch (error) {
        if (!String(error).includes("No space left")) throw error;
        size /= 2; // the last blocks, in smaller writes
      }
    }
  } finally {
    file.close();
  }
  return written;
}
