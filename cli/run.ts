/** `ledge run`: the daemon, in the foreground until SIGINT or SIGTERM (see run_daemon.ts). */
import { Command, Option } from "commander";
import type { LogFormat, LogLevel } from "../core/log.ts";
import { globalOptions } from "./_shared.ts";
import { runDaemon } from "./run_daemon.ts";

/** Builds the `run` verb. */
export function runCommand(): Command {
  return new Command("run")
    .description("run the daemon in the foreground (no config needed)")
    .addOption(new Option("--log-format <format>", "log format").choices(["pretty", "json"]))
    .addOption(
      new Option("--log-level <level>", "log level").choices(["debug", "info", "warn", "error"]),
    )
    .action((options: { logFormat?: LogFormat; logLevel?: LogLevel }, command: Command) =>
      runDaemon({ ...options, config: globalOptions(command).config })
    );
}
