/**
 * The `ledge` command line on commander: one file per verb, assembled here. `ledge run` skips it
 * (see mod.ts): the daemon does not keep a command-line parser in memory.
 */
import { Command, CommanderError } from "commander";
import { VERSION } from "../core/version.ts";
import { type CliIo, DEFAULT_IO } from "./_io.ts";
import { EXIT, exitCodeOf } from "./_shared.ts";
import { certCommand } from "./cert.ts";
import { checkCommand } from "./check.ts";
import { consoleCommand } from "./console.ts";
import { deployCommand } from "./deploy.ts";
import { deploymentCommand } from "./deployment.ts";
import { enrollmentCommand } from "./enrollment.ts";
import { identityCommand } from "./identity.ts";
import { imageCommand } from "./image.ts";
import { initCommand } from "./init.ts";
import { invokeCommand } from "./invoke.ts";
import { listCommand } from "./list.ts";
import { logsCommand } from "./logs.ts";
import { queryCommand } from "./query.ts";
import { restartCommand } from "./restart.ts";
import { runCommand } from "./run.ts";
import { sendCommand } from "./send.ts";
import { startCommand } from "./start.ts";
import { stopCommand } from "./stop.ts";
import { supportBundleCommand } from "./support_bundle.ts";
import { twinCommand } from "./twin.ts";
import { updateCommand } from "./update.ts";
import { versionCommand } from "./version.ts";

/** Every verb, in the order `--help` lists them. A new verb is one file and one line here. */
export const VERBS: readonly (() => Command)[] = [
  runCommand,
  initCommand,
  deployCommand,
  listCommand,
  logsCommand,
  restartCommand,
  startCommand,
  stopCommand,
  checkCommand,
  identityCommand,
  certCommand,
  imageCommand,
  twinCommand,
  queryCommand,
  deploymentCommand,
  enrollmentCommand,
  invokeCommand,
  sendCommand,
  supportBundleCommand,
  consoleCommand,
  updateCommand,
  versionCommand,
];

function configure(command: Command, io: CliIo): void {
  command
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr });
  for (const sub of command.commands) configure(sub, io);
}

/** Builds the program with every verb. */
export function buildProgram(io: CliIo = DEFAULT_IO): Command {
  const program = new Command("ledge")
    .description("an edge runtime: modules, a local IoT Hub-compatible broker, workload identity")
    .version(VERSION, "-V, --version", "print the version")
    .option("-c, --config <path>", "config file (default: /etc/ledge/config.toml, or LEDGE_CONFIG)")
    .allowExcessArguments(false);
  for (const verb of VERBS) program.addCommand(verb());
  configure(program, io);
  return program;
}

/** Runs the command line `args` through commander; resolves with the exit code. */
export async function runProgram(args: readonly string[], io: CliIo = DEFAULT_IO): Promise<number> {
  const program = buildProgram(io);
  try {
    if (args.length === 0) {
      program.outputHelp({ error: true });
      return EXIT.usage;
    }
    await program.parseAsync([...args], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its one line ("error: unknown command 'x'").
      const informational = ["commander.helpDisplayed", "commander.version", "commander.help"];
      return informational.includes(error.code) ? EXIT.ok : EXIT.usage;
    }
    return exitCodeOf(error, io);
  }
}
