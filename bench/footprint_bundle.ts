/**
 * The bundle as the release executable runs it (scripts/bundle.ts: a directory of split, minified
 * files, entry ledge.js), for bench/footprint.ts: built into a temp dir, its size, and the command
 * line of `ledge run` from it under this Deno with the daemon's V8 flags, with its own Deno dir
 * (as the executable's runtime dir has) whose code cache one warm-up start has written.
 */
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";
import { startLedge, type StartLedgeOptions } from "../tests/_ledge.ts";
import { bundleLedge } from "../scripts/bundle.ts";

/** A built bundle, ready to be measured; `remove` deletes it. */
export interface BundleUnderTest {
  /** The size of all its files, in KB. */
  kilobytes: number;
  /** What {@linkcode startLedge} needs to run it. */
  start: Pick<StartLedgeOptions, "command" | "env">;
  remove(): Promise<void>;
}

async function kilobytesOf(dir: string): Promise<number> {
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    bytes += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
  return bytes / 1024;
}

/**
 * Builds the bundle and starts it once, until ready: the first start of a script compiles all it
 * loads and writes Deno's code cache (~+30 MB RSS), as a device's first start does; the measured
 * starts read the cache.
 */
export async function bundleUnderTest(extraConfig: string): Promise<BundleUnderTest> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bench-bundle-" });
  try {
    const entry = await bundleLedge(`${dir}/ledge`);
    const start = {
      command: [
        Deno.execPath(),
        "run",
        "--quiet",
        "--no-config",
        "--allow-all",
        `--v8-flags=${DAEMON_V8_FLAGS}`,
        entry,
      ],
      env: { DENO_DIR: `${dir}/deno-dir` },
    };
    const warmUp = await startLedge({ ...start, extraConfig });
    await warmUp.stop();
    await Deno.remove(warmUp.stateDir, { recursive: true });
    await Deno.remove(warmUp.configPath);
    return {
      kilobytes: await kilobytesOf(`${dir}/ledge`),
      start,
      remove: () => Deno.remove(dir, { recursive: true }),
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
