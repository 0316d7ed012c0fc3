/**
 * Builds release executables with scripts/release.sh for tests (gzip -1: the same launcher and
 * layout as a release, built ~3× faster), and runs them.
 */

import { textOutput } from "./_ledge.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Options for {@linkcode buildRelease}. */
export interface BuildReleaseOptions {
  /** Default: x86_64 only. */
  targets?: readonly ("x86_64" | "aarch64")[];
  /** Stamp this version into the bundle. */
  version?: string;
  /** Package this bundle directory (scripts/bundle.ts) instead of building one. */
  bundle?: string;
}

/** Builds into a new temp dir; resolves with the path of each target's file. */
export async function buildRelease(
  options: BuildReleaseOptions = {},
): Promise<Record<string, string>> {
  const out = await Deno.makeTempDir({ prefix: "ledge-release-" });
  const targets = options.targets ?? ["x86_64"];
  const args = ["scripts/release.sh", ...targets, "--fast", "--out", out];
  if (options.version) args.push("--set-version", options.version);
  if (options.bundle) args.push("--bundle", options.bundle);
  const built = await new Deno.Command("bash", {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!built.success) {
    throw new Error(
      `release.sh failed:\n${decoder.decode(built.stdout)}${decoder.decode(built.stderr)}`,
    );
  }
  return Object.fromEntries(targets.map((target) => [target, `${out}/ledge-${target}-linux`]));
}

/** Runs `executable args` with exactly `env` (no inherited variables). */
export async function runExecutable(
  executable: string,
  args: readonly string[],
  env: Record<string, string>,
  prefix: readonly string[] = [],
): Promise<ReturnType<typeof textOutput>> {
  const [program, ...rest] = [...prefix, executable, ...args];
  const output = await new Deno.Command(program!, {
    args: rest,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return textOutput(output);
}

/**
 * A directory holding only BusyBox's applets: a PATH with the POSIX tools a small device has and
 * no deno, node or coreutils.
 */
export async function busyboxPath(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-busybox-" });
  const installed = await new Deno.Command("busybox", {
    args: ["--install", "-s", dir],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!installed.success) {
    throw new Error(`busybox --install failed: ${new TextDecoder().decode(installed.stderr)}`);
  }
  return dir;
}
