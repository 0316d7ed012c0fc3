/**
 * The `ledge` command line: one file per verb, assembled here. Exit codes: 0 ok, 1 failure,
 * 2 usage error (one line naming the bad argument).
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { ConfigError } from "../core/config_load.ts";
import { VERSION } from "../core/version.ts";
import { MgmtError } from "./_client.ts";
import { EXIT, ExitError, UsageError } from "./_shared.ts";
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

/** What the commander program writes; tests capture it. */
export interface CliIo {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

const encoder = new TextEncoder();
const defaultIo: CliIo = {
  writeOut: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
  writeErr: (text) => void Deno.stderr.writeSync(encoder.encode(text)),
};

function configure(command: Command, io: CliIo): void {
  command
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr });
  for (const sub of command.commands) configure(sub, io);
}

/** Builds the program with every verb. */
export function buildProgram(io: CliIo = defaultIo): Command {
  const program = new Command("ledge")
    .description("an edge runtime: modules, a local IoT Hub-compatible broker, workload identity")
    .version(VERSION, "-V, --version", "print the version")
    .option("-c, --config <path>", "config file (default: /etc/ledge/config.toml, or LEDGE_CONFIG)")
    .allowExcessArguments(false);
  for (const verb of VERBS) program.addCommand(verb());
  configure(program, io);
  return program;
}

/** Runs the command line `args`; resolves with the exit code. */
export async function main(args: readonly string[], io: CliIo = defaultIo): Promise<number> {
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
    if (error instanceof UsageError) {
      io.writeErr(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof ExitError) {
      if (error.message) io.writeErr(`error: ${error.message}\n`);
      return error.code;
    }
    if (error instanceof ConfigError) {
      io.writeErr(`error: ${error.message.split(": ")[0]}:\n`);
      for (const issue of error.issues) io.writeErr(`  ${issue}\n`);
      return EXIT.failure;
    }
    if (error instanceof MgmtError) {
      io.writeErr(`error: ${error.message}\n`);
      return EXIT.failure;
    }
    io.writeErr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failure;
  }
}
