/**
 * One check of `ledge check`: what it looked at, the verdict, and a one-line fix.
 */
import type { Config } from "../../core/config.ts";

/** A check's verdict: ok, warning or error (a check mark, a warning sign, a cross) (any error makes `ledge check` exit 1). */
export type CheckStatus = "ok" | "warning" | "error";

/** The result of one check. */
export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found, one line. */
  message: string;
  /** What to do about it, one line; absent when ok. */
  fix?: string;
}

/** What every check reads. */
export interface CheckContext {
  /** The config, or undefined when it is invalid (the config check says why). */
  config: Config | undefined;
  /** Whether a daemon answers on the management socket. */
  daemonRunning: boolean;
  /** Reads a JSON route of the running daemon's management API (rejects when it cannot). */
  daemonGet?: (path: string) => Promise<unknown>;
  env: Record<string, string | undefined>;
  now: Date;
}

/** A check: reads the context, never changes anything. */
export interface Check {
  id: string;
  title: string;
  run(context: CheckContext): Promise<Omit<CheckResult, "id" | "title">>;
}

/** Runs `checks` in order; a check that throws is an error naming what it threw. */
export async function runChecks(
  checks: readonly Check[],
  context: CheckContext,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    try {
      results.push({ id: check.id, title: check.title, ...(await check.run(context)) });
    } catch (error) {
      results.push({
        id: check.id,
        title: check.title,
        status: "error",
        message: `the check itself failed: ${
          error instanceof Error ? error.message : String(error)
        }`,
      });
    }
  }
  return results;
}

/** Wraps a check that only makes sense with a valid config. */
export function needsConfig(
  id: string,
  title: string,
  run: (config: Config, context: CheckContext) => Promise<Omit<CheckResult, "id" | "title">>,
): Check {
  return {
    id,
    title,
    run: (context) =>
      context.config ? run(context.config, context) : Promise.resolve({
        status: "warning",
        message: "skipped: the config is invalid",
        fix: "fix the config first",
      }),
  };
}
