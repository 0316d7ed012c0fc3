/**
 * The flags of `ledge deployment create|update`, as `az iot edge deployment create` takes them
 * (`--content`, `--target-condition`, `--priority`, `--labels`, `--metrics`, `--layered`), plus
 * the staged rollout (`--rollout 1%,10%,50%,100% --rollout-wait 10m --abort-if-failed 5%`),
 * turned into the body of the fleet's API.
 */
import { ExitError, UsageError } from "./_shared.ts";

/** The flags as commander gives them. */
export interface DeploymentFlags {
  content?: string;
  targetCondition?: string;
  priority?: string;
  labels?: string;
  metrics?: string[];
  layered?: boolean;
  rollout?: string;
  rolloutWait?: string;
  abortIfFailed?: string;
}

/** Reads a JSON file, or throws an {@linkcode ExitError} naming it. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new ExitError(1, `Cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ExitError(1, `Cannot read ${file}: invalid JSON (${(error as Error).message})`);
  }
}

/** `10m`, `30s`, `2h`, `1d` or plain seconds, in seconds. */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`${flag}: expected a duration such as 30s, 10m or 2h, got "${text}"`);
  }
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? "s") as "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

/** `5%` or `5` (0-100). */
export function parsePercent(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text.trim());
  const value = match ? Number(match[1]) : NaN;
  if (!(value >= 0 && value <= 100)) {
    throw new UsageError(`${flag}: expected a percentage from 0 to 100 such as 5%, got "${text}"`);
  }
  return value;
}

/** `k=v,k2=v2` or a JSON object of strings. */
export function parseLabels(text: string): Record<string, string> {
  if (text.trim().startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new UsageError(`--labels: expected k=v,\u2026 or a JSON object, got ${text}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new UsageError(`--labels: expected a JSON object, got ${text}`);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
  }
  const labels: Record<string, string> = {};
  for (const pair of text.split(",").filter((p) => p.trim() !== "")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--labels: expected k=v, got "${pair}"`);
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return labels;
}

/** `name=<query>` (repeatable), or a JSON object `{"queries": {...}}` / `{name: query}`. */
export function parseMetrics(values: readonly string[]): Record<string, string> {
  const queries: Record<string, string> = {};
  for (const text of values) {
    if (text.trim().startsWith("{")) {
      let value: { queries?: Record<string, string> } & Record<string, unknown>;
      try {
        value = JSON.parse(text);
      } catch {
        throw new UsageError(`--metrics: expected name="<query>" or a JSON object, got ${text}`);
      }
      Object.assign(queries, value.queries ?? value);
      continue;
    }
    const eq = text.indexOf("=");
    if (eq <= 0) throw new UsageError(`--metrics: expected name="<query>", got "${text}"`);
    queries[text.slice(0, eq).trim()] = text.slice(eq + 1).trim().replace(/^"(.*)"$/s, "$1");
  }
  return queries;
}

/** `1%,10%,50%,100%` as cumulative percentages. */
export function parseWaves(text: string): number[] {
  return text.split(",").map((part) => parsePercent("--rollout", part));
}

/** `{modulesContent}` from a content file: `{content: {modulesContent}}`, `{modulesContent}`. */
function contentOf(file: string, value: unknown): { modulesContent: unknown } {
  const record = (value ?? {}) as {
    content?: { modulesContent?: unknown };
    modulesContent?: unknown;
  };
  const modulesContent = record.content?.modulesContent ?? record.modulesContent;
  if (typeof modulesContent !== "object" || modulesContent === null) {
    throw new ExitError(
      1,
      `Cannot read ${file}: expected {"content": {"modulesContent": {\u2026}}} or {"modulesContent": {\u2026}}`,
    );
  }
  return { modulesContent };
}

/**
 * The API body the flags make. A content file that is a whole configuration (as `az ... show`
 * prints it) also gives the fields the flags leave out.
 */
export async function deploymentBody(
  flags: DeploymentFlags,
  options: { creating: boolean },
): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  if (flags.content !== undefined) {
    const file = await readJsonFile(flags.content);
    body.content = contentOf(flags.content, file);
    const whole = file as Record<string, unknown>;
    if (options.creating) {
      for (const key of ["targetCondition", "priority", "labels", "metrics"]) {
        if (whole[key] !== undefined) body[key] = whole[key];
      }
    }
  }
  if (flags.targetCondition !== undefined) body.targetCondition = flags.targetCondition;
  if (flags.priority !== undefined) {
    if (!/^\d+$/.test(flags.priority)) {
      throw new UsageError(
        `--priority: expected a whole number 0 or more, got "${flags.priority}"`,
      );
    }
    body.priority = Number(flags.priority);
  }
  if (flags.labels !== undefined) body.labels = parseLabels(flags.labels);
  if (flags.metrics !== undefined && flags.metrics.length > 0) {
    body.metrics = { queries: parseMetrics(flags.metrics) };
  }
  if (!options.creating) return body;
  if (flags.layered) body.layered = true;
  if (flags.rollout !== undefined) {
    body.rollout = {
      waves: parseWaves(flags.rollout),
      waitSeconds: flags.rolloutWait === undefined
        ? 0
        : parseDuration("--rollout-wait", flags.rolloutWait),
      abortIfFailedPercent: flags.abortIfFailed === undefined
        ? 0
        : parsePercent("--abort-if-failed", flags.abortIfFailed),
    };
  } else if (flags.rolloutWait !== undefined || flags.abortIfFailed !== undefined) {
    throw new UsageError("--rollout-wait and --abort-if-failed need --rollout <waves>");
  }
  return body;
}
