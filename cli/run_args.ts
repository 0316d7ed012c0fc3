/**
 * The plain reading of `ledge run`'s few arguments, which lets `main` start the daemon without
 * loading the command-line parser (see mod.ts). Anything it does not recognise goes to commander.
 */
import type { LogFormat, LogLevel } from "../core/log.ts";

/** What `ledge run` takes. */
export interface RunOptions {
  config?: string | undefined;
  logFormat?: LogFormat | undefined;
  logLevel?: LogLevel | undefined;
}

const LOG_FORMATS: readonly string[] = ["pretty", "json"];
const LOG_LEVELS: readonly string[] = ["debug", "info", "warn", "error"];

/**
 * Reads `[--config P] run [--config P] [--log-format F] [--log-level L]` (also `--opt=value` and
 * `-c P`); undefined for anything else - help, a typo, a bad value - which commander then reports.
 */
export function parseRunArgs(args: readonly string[]): RunOptions | undefined {
  const options: RunOptions = {};
  let verb = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "run" && !verb) {
      verb = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const value = flag === arg ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || value.startsWith("-")) return undefined;
    if (flag === "--config" || flag === "-c") options.config = value;
    else if (verb && flag === "--log-format" && LOG_FORMATS.includes(value)) {
      options.logFormat = value as LogFormat;
    } else if (verb && flag === "--log-level" && LOG_LEVELS.includes(value)) {
      options.logLevel = value as LogLevel;
    } else return undefined;
  }
  return verb ? options : undefined;
}
