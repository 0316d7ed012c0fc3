/**
 * The bundle as the release executable runs it (scripts/bundle.ts: a directory of split, minified
 * files, entry ledge.js), for bench/footprint.ts: built into a temp dir, its size, and the command
 * line of `ledge run` from it under this Deno with the launcher's flags (no code cache) and the
 * daemon's V8 flags, with a Deno dir of its own into which the bundle was analysed, as the
 * executable's runtime dir has.
 */
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";
import type { StartLedgeOptions } from "../tests/_ledge.ts";
import { analyseBundle, BUNDLE_RUN_FLAGS, bundleLedge } from "../scripts/bundle.ts";

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

/** The bundle built into `dir`/ledge and analysed into `dir`/deno-dir: its entry and env. */
export async function prepareBundle(
  dir: string,
): Promise<{ entry: string; env: { DENO_DIR: string } }> {
  const entry = await bundleLedge(`${dir}/ledge`);
  const env = { DENO_DIR: `${dir}/deno-dir` };
  await analyseBundle(entry, env.DENO_DIR);
  return { entry, env };
}

/** Builds the bundle into a temp dir and has Deno analyse it there. */
export async function bundleUnderTest(): Promise<BundleUnderTest> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bench-bundle-" });
  try {
    const { entry, env } = await prepareBundle(dir);
    const command = [
      Deno.execPath(),
      "run",
      "--quiet",
      ...BUNDLE_RUN_FLAGS,
      "--allow-all",
      `--v8-flags=${DAEMON_V8_FLAGS}`,
      entry,
    ];
    return {
      kilobytes: await kilobytesOf(`${dir}/ledge`),
      start: { command, env },
      remove: () => Deno.remove(dir, { recursive: true }),
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
