/**
 * What every verb shares: exit codes, usage errors, the global options, loading the config,
 * and printing tables or JSON.
 */
import type { Command } from "commander";
import type { Config } from "../core/config.ts";
import { ConfigError, loadConfig } from "../core/config_load.ts";
import type { CliIo } from "./_io.ts";
import { createMgmtClient, type MgmtClient, MgmtError } from "./_client.ts";

/** Exit codes of the `ledge` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A bad argument or flag value; the command exits 2 with this one line. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Ends the command with `code`; `message`, when given, is printed on stderr. */
export class ExitError extends Error {
  override name = "ExitError";
  readonly code: number;
  constructor(code: number, message = "") {
    super(message);
    this.code = code;
  }
}

/** Prints what ended a verb, as one line (a config error: one line per problem); its exit code. */
export function exitCodeOf(error: unknown, io: CliIo): number {
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

/** The options every verb inherits from the program. */
export interface GlobalOptions {
  config?: string;
}

/** The global options of the program a verb belongs to. */
export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

/** Loads the config the global `--config` (or the environment) names. */
export async function configFor(command: Command): Promise<Config> {
  return (await loadConfig({ path: globalOptions(command).config })).config;
}

/** A management client for the daemon the config points at; closes after `use`. */
export async function withDaemon<T>(
  command: Command,
  use: (client: MgmtClient) => Promise<T>,
): Promise<T> {
  const config = await configFor(command);
  const client = createMgmtClient(config.state.dir);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** Writes one line to stdout. */
export function out(line: string): void {
  console.log(line);
}

/** Prints `value` as indented JSON on stdout. */
export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/**
 * Prints rows as an aligned table with upper-case headers, like `iotedge list`.
 *
 * @example
 * ```ts
 * printTable([{ name: "sensor", status: "running" }], ["name", "status"]);
 * ```
 */
export function printTable<Row extends Record<string, unknown>>(
  rows: readonly Row[],
  columns: readonly (keyof Row & string)[],
): void {
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? "")));
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((line) => line[i]!.length))
  );
  const render = (line: string[]) =>
    line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join("   ")
      .trimEnd();
  out(render(columns.map((column) => column.toUpperCase())));
  for (const line of cells) out(render(line));
}

/** Parses a whole non-negative number flag, or throws a {@linkcode UsageError} naming it. */
export function parseCount(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`${flag}: expected a whole number, got "${value}"`);
  }
  return Number(value);
}
