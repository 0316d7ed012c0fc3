/**
 * Footprint of the release executable (scripts/release.sh, this machine's target): its size, and
 * process start → ready on the first start (the runtime is unpacked) and on later starts.
 */
import { startLedge } from "../tests/_ledge.ts";
import type { BenchOptions, Figure } from "./_figure.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function buildExecutable(out: string): Promise<string> {
  const arch = Deno.build.arch;
  const { success, stderr } = await new Deno.Command("bash", {
    args: ["scripts/release.sh", arch, "--out", out],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`Cannot build the release: ${new TextDecoder().decode(stderr)}`);
  return `${out}/ledge-${arch}-linux`;
}

async function startToReady(executable: string, runtimeDir: string): Promise<number> {
  const begun = performance.now();
  const ledge = await startLedge({
    command: [executable],
    env: { LEDGE_RUNTIME_DIR: runtimeDir },
    extraConfig: '[agent]\nengine = "none"\n',
  });
  const readyMs = performance.now() - begun;
  await ledge.stop();
  await Deno.remove(ledge.stateDir, { recursive: true });
  await Deno.remove(ledge.configPath);
  return readyMs;
}

/** Measures the release executable of this machine's target. */
export async function benchReleaseFootprint(options: BenchOptions): Promise<Figure[]> {
  const runs = options.quick ? 1 : 3;
  const dir = await Deno.makeTempDir({ prefix: "ledge-bench-release-" });
  try {
    const executable = await buildExecutable(`${dir}/out`);
    const first: number[] = [];
    const later: number[] = [];
    for (let run = 0; run < runs; run++) {
      const runtimeDir = `${dir}/runtime-${run}`;
      first.push(await startToReady(executable, runtimeDir));
      later.push(await startToReady(executable, runtimeDir));
    }
    const name = `dist/ledge-${Deno.build.arch}-linux`;
    return [
      {
        group: "footprint",
        name: `${name} (self-extracting: launcher, Deno, the bundle dist/ledge; gzip)`,
        unit: "MB",
        higherIsBetter: false,
        values: [(await Deno.stat(executable)).size / 1024 / 1024],
      },
      {
        group: "footprint",
        name: `${name}: first start → ready (unpacks the runtime)`,
        unit: "ms",
        higherIsBetter: false,
        values: first,
      },
      {
        group: "footprint",
        name: `${name}: later start → ready`,
        unit: "ms",
        higherIsBetter: false,
        values: later,
      },
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
