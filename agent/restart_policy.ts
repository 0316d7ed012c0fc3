/**
 * Restart policy and back-off: whether an exited module restarts, and when. Pure functions of
 * the module, its instance, its restart stats and the time.
 */
import type { RestartPolicy } from "./manifest.ts";
import type { ModuleInstance } from "./module_instance.ts";

/** Back-off settings (from `[agent]`). */
export interface BackoffSettings {
  baseSeconds: number;
  maxSeconds: number;
  /** A module that runs this long has its restart count reset. */
  resetSeconds: number;
}

/** What the agent remembers of a module's restarts and failures. */
export interface RestartStats {
  /** Restarts (and failed attempts) since the module last ran `resetSeconds`. */
  restartCount: number;
  /** When the agent last restarted it (ms since the epoch). */
  lastRestartTime?: number;
  /** The last failure to pull, create or start it, for the config it had then. */
  failure?: { at: number; message: string; configHash: string };
  /**
   * When the agent found the instance of this config gone, removed outside ledge (`podman rm
   * -f`): a crash, counted at its recreation and restarted after the same back-off.
   */
  vanished?: { at: number; configHash: string };
}

/** Stats of a module that never restarted. */
export const FRESH_STATS: RestartStats = Object.freeze({ restartCount: 0 });

/** The exit code a removal outside ledge is judged by (`rm -f` kills: 128 + SIGKILL). */
export const VANISHED_EXIT_CODE = 137;

/** `min(base * 2^restartCount, max)` in milliseconds. */
export function restartBackoffMs(restartCount: number, settings: BackoffSettings): number {
  const exponent = Math.min(restartCount, 32);
  return Math.min(settings.baseSeconds * 2 ** exponent, settings.maxSeconds) * 1000;
}

/**
 * Whether a module that exited with `exitCode` restarts under `policy`. IoT Edge's order holds:
 * `on-unhealthy` also restarts on failure, `always` restarts on any exit.
 */
export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  switch (policy) {
    case "never":
      return false;
    case "on-failure":
    case "on-unhealthy":
      return exitCode !== 0;
    case "always":
      return true;
  }
}

/** Whether an unhealthy running module gets restarted under `policy`. */
export function restartsWhenUnhealthy(policy: RestartPolicy): boolean {
  return policy === "on-unhealthy" || policy === "always";
}

/**
 * Resets the restart count of a module whose current or last run lasted `resetSeconds`.
 *
 * @returns `stats` itself when nothing changes.
 */
export function refreshRestartStats(
  stats: RestartStats,
  instance: ModuleInstance | undefined,
  options: { now: number; resetSeconds: number },
): RestartStats {
  if (!instance || instance.startedAt === undefined || stats.restartCount === 0) return stats;
  const end = instance.state === "running" ? options.now : instance.finishedAt;
  if (end === undefined || end < instance.startedAt) return stats;
  if (end - instance.startedAt < options.resetSeconds * 1000) return stats;
  const { failure: _failure, ...rest } = stats;
  return { ...rest, restartCount: 0 };
}
