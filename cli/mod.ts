/**
 * The `ledge` command line: one file per verb, assembled in program.ts. Exit codes: 0 ok,
 * 1 failure, 2 usage error (one line naming the bad argument). `ledge run` with plain arguments
 * starts the daemon without loading the command-line parser, which it would keep in memory for
 * its whole life for nothing.
 *
 * @module
 */
import { type CliIo, DEFAULT_IO } from "./_io.ts";
import { parseRunArgs } from "./run_args.ts";

export type { CliIo } from "./_io.ts";

/** Runs the command line `args`; resolves with the exit code. */
export async function main(args: readonly string[], io: CliIo = DEFAULT_IO): Promise<number> {
  const run = parseRunArgs(args);
  if (run === undefined) {
    const { runProgram } = await import("./program.ts");
    return await runProgram(args, io);
  }
  try {
    const { runDaemon } = await import("./run_daemon.ts");
    await runDaemon(run);
    return 0;
  } catch (error) {
    const { exitCodeOf } = await import("./_shared.ts");
    return exitCodeOf(error, io);
  }
}
