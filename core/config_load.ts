/**
 * Loading the config file: TOML -> defaults merged in -> the schema of {@linkcode configSchema},
 * with errors that name the key path, the bad value and what was expected.
 */
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { isLoopbackHost, splitListen } from "./listen_address.ts";
import {
  type Config,
  configSchema,
  currentDefaultsContext,
  defaultConfig,
  type DefaultsContext,
} from "./config.ts";

/** The system config file, root's default. */
export const SYSTEM_CONFIG_PATH = "/etc/ledge/config.toml";

/**
 * The default config file: {@linkcode SYSTEM_CONFIG_PATH} for root, else
 * `$XDG_CONFIG_HOME/ledge/config.toml` or `~/.config/ledge/config.toml`. Used only when it exists.
 */
export function defaultConfigPath(context: DefaultsContext): string {
  if (context.uid === 0) return SYSTEM_CONFIG_PATH;
  const base = context.env.XDG_CONFIG_HOME ?? `${context.env.HOME ?? "."}/.config`;
  return `${base}/ledge/config.toml`;
}

/** A config file that cannot be read or is invalid. `issues` holds one line per problem. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** One `key.path: problem` line per problem. */
  readonly issues: string[];
  constructor(source: string, issues: string[], options?: ErrorOptions) {
    super(`Cannot load config ${source}: ${issues.join("; ")}`, options);
    this.issues = issues;
  }
}

/** Where the config was found, and what it says. */
export interface LoadedConfig {
  config: Config;
  /** The file read, or undefined when the embedded defaults are used. */
  path: string | undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** Deep-merges `override` onto `base`: objects merge key by key, anything else replaces. */
function mergeOnto(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = mergeOnto(base[key], value);
  return out;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** Edit distance where swapping two neighbours counts as one edit, as typos usually do. */
function typoDistance(a: string, b: string): number {
  let distance = editDistance(a, b);
  for (let i = 0; i + 1 < a.length; i++) {
    if (a[i] !== a[i + 1]) {
      const swapped = a.slice(0, i) + a[i + 1] + a[i] + a.slice(i + 2);
      if (swapped === b) distance = Math.min(distance, 1);
    }
  }
  return distance;
}

/** The closest of `candidates` to `word`, when it is close enough to be a likely typo. */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = typoDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function keysAt(schema: z.ZodType, path: PropertyKey[]): string[] {
  // deno-lint-ignore no-explicit-any
  let node: any = schema;
  for (const key of path) node = node?.shape?.[key];
  return Object.keys(node?.shape ?? {});
}

function showValue(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Formats schema issues as `key.path: expected ..., got ...` lines. */
export function formatConfigIssues(
  error: z.ZodError,
  schema: z.ZodType = configSchema(),
): string[] {
  return error.issues.flatMap((issue) => {
    const where = issue.path.join(".");
    if (issue.code === "unrecognized_keys") {
      const known = keysAt(schema, issue.path);
      return issue.keys.map((key) => {
        const suggestion = closestMatch(key, known);
        const full = where ? `${where}.${key}` : key;
        return `${full}: unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`;
      });
    }
    const got = "input" in issue ? `, got ${showValue(issue.input)}` : "";
    return [`${where || "(top level)"}: ${issue.message}${got}`];
  });
}

function crossFieldIssues(config: Config): string[] {
  const issues: string[] = [];
  if (config.agent.backoff_max_seconds < config.agent.backoff_base_seconds) {
    issues.push(
      `agent.backoff_max_seconds: expected at least agent.backoff_base_seconds (${config.agent.backoff_base_seconds}), got ${config.agent.backoff_max_seconds}`,
    );
  }
  const { edge_ca_cert, edge_ca_key } = config.security;
  if ((edge_ca_cert === "") !== (edge_ca_key === "")) {
    issues.push(
      `security.${edge_ca_cert ? "edge_ca_key" : "edge_ca_cert"}: expected a path when security.${
        edge_ca_cert ? "edge_ca_cert" : "edge_ca_key"
      } is set, got ""`,
    );
  }
  if (config.upstream.enabled && config.upstream.hostname === "") {
    issues.push(`upstream.hostname: expected a host name when upstream.enabled is true, got ""`);
  }
  const { shared_access_key: key, cert_file, key_file, enrollment_key } = config.upstream;
  if (
    config.upstream.enabled && key === "" && cert_file === "" && key_file === "" &&
    enrollment_key === ""
  ) {
    issues.push(
      `upstream.shared_access_key: expected a base64 key (or upstream.cert_file and upstream.key_file, or upstream.enrollment_key) when upstream.enabled is true, got ""`,
    );
  }
  if (enrollment_key !== "" && key !== "") {
    issues.push(
      "upstream.enrollment_key: expected it alone; the device key derives from it, so leave upstream.shared_access_key empty",
    );
  }
  if (
    enrollment_key !== "" &&
    (!/^[A-Za-z0-9+/]+={0,2}$/.test(enrollment_key) || enrollment_key.length % 4 !== 0)
  ) {
    issues.push(
      `upstream.enrollment_key: expected a base64 key, got ${enrollment_key.length} characters`,
    );
  }
  if ((cert_file === "") !== (key_file === "")) {
    issues.push(
      `upstream.${cert_file ? "key_file" : "cert_file"}: expected a path when upstream.${
        cert_file ? "cert_file" : "key_file"
      } is set, got ""`,
    );
  }
  if (key !== "" && (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0)) {
    // The key itself is a secret: its length only.
    issues.push(`upstream.shared_access_key: expected a base64 key, got ${key.length} characters`);
  }
  const consoleAt = splitListen(config.console.listen);
  if (config.console.enabled && !config.console.tls && !isLoopbackHost(consoleAt.hostname)) {
    issues.push(
      `console.listen: listening beyond loopback needs console.tls = true (HTTPS with ledge's server certificate), got ${
        JSON.stringify(config.console.listen)
      }`,
    );
  }
  return issues;
}

/**
 * Validates a config object (as parsed from TOML) over the defaults.
 *
 * @throws {ConfigError} naming every invalid key.
 */
export function parseConfig(
  raw: unknown,
  context: DefaultsContext = currentDefaultsContext(),
  source = "(inline)",
): Config {
  if (!isPlainObject(raw)) throw new ConfigError(source, ["(top level): expected a table"]);
  const schema = configSchema();
  const result = schema.safeParse(mergeOnto(defaultConfig(context), raw), { reportInput: true });
  if (!result.success) throw new ConfigError(source, formatConfigIssues(result.error, schema));
  const problems = crossFieldIssues(result.data);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return result.data;
}

/** Parses TOML text into a validated config. */
export function parseConfigText(
  text: string,
  context: DefaultsContext = currentDefaultsContext(),
  source = "(inline)",
): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split("\n")[0] ?? error.message;
      throw new ConfigError(source, [`line ${error.line}, column ${error.column}: ${firstLine}`], {
        cause: error,
      });
    }
    throw error;
  }
  return parseConfig(raw, context, source);
}

/** Options for {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Explicit path (`--config`); must exist. */
  path?: string | undefined;
  context?: DefaultsContext;
}

/**
 * Finds and loads the config: `--config`, else `LEDGE_CONFIG`, else {@linkcode defaultConfigPath}
 * when it exists, else the embedded defaults.
 *
 * @throws {ConfigError} when the file is unreadable or invalid.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const context = options.context ?? currentDefaultsContext();
  const explicit = options.path ?? context.env.LEDGE_CONFIG;
  const path = explicit ?? defaultConfigPath(context);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (explicit === undefined && error instanceof Deno.errors.NotFound) {
      return { config: parseConfig({}, context), path: undefined };
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(path, [`cannot read the file: ${reason}`], { cause: error });
  }
  return { config: parseConfigText(text, context, path), path };
}
