/**
 * Health-gated rollback on the device. A newly accepted deployment is watched for
 * `agent.rollback_after_seconds`: once every module runs as it should (deployment_health.ts) it
 * becomes the last good deployment (`<state>/agent/good.json`). If it has not by the deadline,
 * the agent goes back to the last good one and says so in `lastDesiredStatus`; the parent need
 * not be reachable, and a local `ledge deploy` is watched the same way unless it opts out
 * (`--no-rollback`: still watched and reported, never rolled back). With no good deployment to
 * go back to, the new one keeps running and its failure is reported.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import { stableJson } from "../iothub/mod.ts";
import type { Deployment } from "./deployment.ts";
import { deploymentProblems, type HealthView, stableMsFor } from "./deployment_health.ts";
import type { RolledBack, StoredDeployment } from "./store.ts";

export type { RolledBack } from "./store.ts";

/** How the current deployment fares, as `deploymentHealth` in the reported properties. */
export interface DeploymentHealth {
  version: number;
  /** checking: within the window; healthy; failed (not healthy, not rolled back); rolled-back. */
  state: "checking" | "healthy" | "failed" | "rolled-back";
  /** The end of the window, while checking. */
  deadlineUtc?: string;
  /** What kept it from running as it should. */
  reason?: string;
}

/** What the guard keeps on disk. */
export interface RollbackFiles {
  loadGood(): Promise<StoredDeployment | undefined>;
  saveGood(good: StoredDeployment): Promise<void>;
  loadRolledBack(): Promise<RolledBack | undefined>;
  saveRolledBack(rolledBack: RolledBack | undefined): Promise<void>;
}

/** What the guard works with. */
export interface RollbackGuardOptions {
  /** `agent.rollback_after_seconds`; 0 turns rollback (and the check) off. */
  afterSeconds: number;
  now: () => number;
  files: RollbackFiles;
  view: () => HealthView | undefined;
  /** Goes back to `good`; `from` is the version that failed. */
  rollback: (good: StoredDeployment, from: Deployment, reason: string) => Promise<void>;
  /** Called when the health state changes (the reported properties change). */
  onChange: () => void;
  logger: Logger;
}

/** The manifest's identity, whatever its `$version`. */
export function manifestKey(manifest: Record<string, unknown>): string {
  return stableJson(manifest, ["$version"]);
}

interface Watched {
  deployment: Deployment;
  stored: StoredDeployment;
  rollback: boolean;
  deadline: number;
}

/** Watches the current deployment and rolls it back when it does not become healthy. */
export class RollbackGuard {
  readonly #options: RollbackGuardOptions;
  #good: StoredDeployment | undefined;
  #rolledBack: RolledBack | undefined;
  #watched: Watched | undefined;
  #health: DeploymentHealth | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #acting = false;

  constructor(options: RollbackGuardOptions) {
    this.#options = options;
  }

  /** Reads what an earlier run kept. */
  async load(): Promise<void> {
    const { files, logger } = this.#options;
    this.#good = await files.loadGood().catch((error) => {
      logger.warn("cannot read the last good deployment", { error });
      return undefined;
    });
    this.#rolledBack = await files.loadRolledBack().catch(() => undefined);
  }

  /** The current deployment's health, for the reported properties. */
  health(): DeploymentHealth | undefined {
    return this.#health;
  }

  /** The rollback of the same content as `manifest`, if it was rolled back. */
  rolledBack(manifest: Record<string, unknown>): RolledBack | undefined {
    return this.#rolledBack?.key === manifestKey(manifest) ? this.#rolledBack : undefined;
  }

  /** Whether `stored` is the last good deployment. */
  isGood(stored: StoredDeployment): boolean {
    return this.#good !== undefined &&
      manifestKey(this.#good.manifest) === manifestKey(stored.manifest);
  }

  /** Starts watching a deployment just applied (`rollback` false: watch and report only). */
  watch(deployment: Deployment, stored: StoredDeployment, rollback: boolean): void {
    this.#stopTimer();
    const { afterSeconds, now } = this.#options;
    if (afterSeconds <= 0) {
      this.#watched = undefined;
      this.#health = undefined;
      return;
    }
    const deadline = now() + afterSeconds * 1000;
    this.#watched = { deployment, stored, rollback, deadline };
    this.#health = {
      version: deployment.version,
      state: "checking",
      deadlineUtc: new Date(deadline).toISOString(),
    };
    this.#timer = setInterval(() => this.check(), 1000);
    this.#options.onChange();
  }

  /** Marks a deployment as good without watching it (it ran healthy before). */
  trust(deployment: Deployment): void {
    this.#stopTimer();
    this.#watched = undefined;
    this.#health = { version: deployment.version, state: "healthy" };
  }

  /** Judges the watched deployment now (on every change of the loop, and every second). */
  check(): void {
    const watched = this.#watched;
    const view = this.#options.view();
    if (watched === undefined || view === undefined || this.#acting) return;
    const now = this.#options.now();
    const stableMs = stableMsFor(this.#options.afterSeconds);
    const problems = deploymentProblems(watched.deployment, view, { now, stableMs });
    if (problems.length === 0) {
      this.#acting = true;
      void this.#markGood(watched).finally(() => this.#acting = false);
      return;
    }
    if (now < watched.deadline) return;
    this.#acting = true;
    void this.#fail(watched, problems).finally(() => this.#acting = false);
  }

  /** Stops watching (the agent is stopping). */
  stop(): void {
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #markGood(watched: Watched): Promise<void> {
    this.#stopTimer();
    this.#watched = undefined;
    this.#good = watched.stored;
    this.#health = { version: watched.deployment.version, state: "healthy" };
    this.#options.onChange();
    this.#options.logger.info("deployment healthy", { version: watched.deployment.version });
    await this.#options.files.saveGood(watched.stored).catch((error) =>
      this.#options.logger.error("cannot save the last good deployment", { error })
    );
  }

  async #fail(watched: Watched, problems: string[]): Promise<void> {
    this.#stopTimer();
    this.#watched = undefined;
    const { afterSeconds, logger } = this.#options;
    const version = watched.deployment.version;
    const why = `not running as it should within ${afterSeconds} s: ${problems.join("; ")}`;
    const good = this.#good;
    const canRollBack = watched.rollback && good !== undefined && !this.isGood(watched.stored);
    if (!canRollBack) {
      const reason = watched.rollback
        ? `${why}; no earlier deployment ran healthy to go back to`
        : why;
      this.#health = { version, state: "failed", reason };
      logger.error("deployment unhealthy", { version, reason });
      this.#options.onChange();
      return;
    }
    const reason = `rolled back from version ${version} to ${good.version}: ${why}`;
    this.#rolledBack = {
      version,
      key: manifestKey(watched.stored.manifest),
      reason,
      runningVersion: good.version,
    };
    this.#health = { version, state: "rolled-back", reason };
    logger.error("deployment rolled back", { from: version, to: good.version, reason: why });
    await this.#options.files.saveRolledBack(this.#rolledBack).catch((error) =>
      logger.error("cannot save the rollback", { error })
    );
    await this.#options.rollback(good, watched.deployment, reason);
    this.#options.onChange();
  }
}
