/**
 * Leveled logging tagged by component: pretty lines on a terminal, one JSON object per line
 * otherwise (or when asked). Every record goes to stderr; stdout stays for command output.
 */
import process from "node:process";
import { styleText } from "node:util";

/** Log levels, least to most severe. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** A log level name. */
export type LogLevel = typeof LOG_LEVELS[number];
/** How records are written: `pretty` for people, `json` for collectors. */
export type LogFormat = "pretty" | "json";

/** Structured fields attached to a record. Values must be JSON-serializable. */
export type LogFields = Record<string, unknown>;

/** A logger bound to one component. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger for a sub-component, tagged `parent.name`. */
  child(name: string): Logger;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Component tag of the root logger. */
  component?: string;
  /** Where lines go; defaults to stderr. */
  write?: (line: string) => void;
  /** Colours in pretty output; defaults to whether stderr is a terminal. */
  color?: boolean;
  /** Clock, for tests. */
  now?: () => Date;
  /** Also keeps every record (at or above `level`) here, e.g. a {@linkcode LogRing}. */
  ring?: { push(record: { time: string } & LogFields): void };
}

const COLORS = {
  debug: "gray",
  info: "cyan",
  warn: "yellow",
  error: "red",
} as const satisfies Record<LogLevel, string>;

/**
 * The level tag, coloured: always (`true`), never (`false`), or as node:util decides for stderr
 * (`undefined`: only on a terminal, and never under NO_COLOR).
 */
function paintTag(level: LogLevel, tag: string, color: boolean | undefined): string {
  if (color === false) return tag;
  return color === true
    ? styleText(COLORS[level], tag, { validateStream: false })
    : styleText(COLORS[level], tag, { stream: process.stderr });
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

function errorFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? value.message : value;
  }
  return out;
}

function prettyValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "info", format: "json" }).child("hub");
 * log.info("listening", { port: 8883 });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const minimum = LOG_LEVELS.indexOf(options.level ?? "info");
  const format = options.format ?? "pretty";
  const write = options.write ?? writeStderr;
  const color = options.color ?? (options.write === undefined ? undefined : false);
  const now = options.now ?? (() => new Date());

  function make(component: string): Logger {
    function emit(level: LogLevel, message: string, fields: LogFields = {}): void {
      if (LOG_LEVELS.indexOf(level) < minimum) return;
      const time = now().toISOString();
      const clean = errorFields(fields);
      options.ring?.push({ time, level, component, message, ...clean });
      if (format === "json") {
        write(JSON.stringify({ time, level, component, message, ...clean }));
        return;
      }
      const extra = Object.entries(clean).map(([k, v]) => ` ${k}=${prettyValue(v)}`).join("");
      const tag = level.toUpperCase().padEnd(5);
      const head = paintTag(level, tag, color);
      write(`${time} ${head} [${component}] ${message}${extra}`);
    }
    return {
      debug: (message, fields) => emit("debug", message, fields),
      info: (message, fields) => emit("info", message, fields),
      warn: (message, fields) => emit("warn", message, fields),
      error: (message, fields) => emit("error", message, fields),
      child: (name) => make(component ? `${component}.${name}` : name),
    };
  }
  return make(options.component ?? "ledge");
}

/** A logger that drops everything, for tests of code that takes a logger. */
export const silentLogger: Logger = createLogger({ write: () => {}, level: "error" });
