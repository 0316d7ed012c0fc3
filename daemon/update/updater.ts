/**
 * Self-update on the device: takes the version the deployment wants (`runtime.settings.
 * ledgeVersion`) or a local file, installs it (install.ts), and restarts into it; on the next
 * start, confirms the new version once it is ready and connected to its parent, or gives it up
 * (the launcher, or this code for a compiled binary, puts the previous executable back). Every
 * outcome is kept in `<state>/update/status.json`, logged, and reported in `$edgeAgent`.
 */
import { writeFileAtomic } from "../../core/atomic_file.ts";
import type { Config } from "../../core/config.ts";
import type { Logger } from "../../core/log.ts";
import { currentTarget, VERSION } from "../../core/version.ts";
import {
  currentExecutable,
  type Executable,
  putPreviousBack,
  readMarker,
  removeMarker,
  takeRollbackResult,
  writeMarker,
} from "./executable.ts";
import { readLauncherHeader } from "./artifact_file.ts";
import { installUpdate, UpdateRefusedError } from "./install.ts";
import { fetchFromParent, ParentArtifactError, parentEndpoint } from "./parent_artifacts.ts";
import { type ArtifactDescriptor, importPublicKey, type TrustedKey } from "./signature.ts";

/** Exit code that makes the launcher (or systemd) start ledge again. */
export const EXIT_RESTART = 75;
/** A parent out of reach is asked again after 5 s, doubling up to 5 minutes. */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 300_000;

/** The last update's outcome. */
export interface LastUpdate {
  version: string;
  result: "downloading" | "restarting" | "succeeded" | "failed" | "rolled-back";
  reason?: string;
  from?: string;
  /** `lastDesiredVersion` of the deployment that asked for it (none for a local file). */
  deploymentVersion?: number;
  at: string;
}

/** What `$edgeAgent` reports and `ledge update status` shows. */
export interface UpdateStatus {
  version: string;
  target: string;
  executable: string;
  lastUpdate?: LastUpdate;
}

/** What the updater needs from the daemon. */
export interface UpdaterOptions {
  config: Config;
  stateDir: string;
  logger: Logger;
  /** Stops the daemon and exits with `code` (75: start again). */
  exit(code: number, reason: string): void;
  /** Whether this device's connection to its parent is up. */
  upstreamConnected(): boolean;
  /**
   * Called once this version is known to stay (no update on trial at start, or the trial
   * confirmed): what the previous version could not read may now be written.
   */
  committed?(): void;
  executable?: Executable | undefined;
}

async function loadTrustedKeys(config: Config, logger: Logger): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  for (const entry of config.update.trusted_keys) {
    const pem = entry.includes("-----BEGIN")
      ? entry
      : await Deno.readTextFile(entry).catch(() => "");
    try {
      keys.push(await importPublicKey(pem));
    } catch (error) {
      logger.error("an update.trusted_keys entry is not a usable public key", {
        entry: entry.includes("-----BEGIN") ? "(PEM text)" : entry,
        reason: (error as Error).message,
      });
    }
  }
  return keys;
}

/**
 * Removes the unpacked runtimes (~100 MB each) of versions other than this one and the previous
 * executable's, once a new version is confirmed.
 */
async function pruneRuntimes(exe: string, logger: Logger): Promise<void> {
  const current = Deno.env.get("LEDGE_RUNTIME");
  if (!current) return;
  const base = current.slice(0, current.lastIndexOf("/"));
  const previous = await readLauncherHeader(`${exe}.previous`).catch(() => undefined);
  const keep = new Set([current.slice(base.length + 1)]);
  if (previous) keep.add(`${previous.version}-${previous.payloadSha256.slice(0, 16)}`);
  for await (const entry of Deno.readDir(base)) {
    if (!entry.isDirectory || entry.name.startsWith(".") || keep.has(entry.name)) continue;
    await Deno.remove(`${base}/${entry.name}`, { recursive: true }).then(
      () => logger.info("removed an old runtime", { dir: `${base}/${entry.name}` }),
      (error) => logger.warn("cannot remove an old runtime", { dir: entry.name, error }),
    );
  }
}

/** The device's self-update. */
export class Updater {
  readonly #options: UpdaterOptions;
  readonly #executable: Executable | undefined;
  readonly #listeners = new Set<() => void>();
  #last: LastUpdate | undefined;
  /** The last deployment that asked for a version: it is not tried twice. */
  #attempted: { version: string; deploymentVersion: number } | undefined;
  #trusted: TrustedKey[] = [];
  #busy = false;
  #onTrial = false;
  #confirmTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryDelayMs = RETRY_FIRST_MS;
  #wanted: { version: string | undefined; deploymentVersion: number } | undefined;

  constructor(options: UpdaterOptions) {
    this.#options = options;
    this.#executable = "executable" in options ? options.executable : currentExecutable();
  }

  get #statusPath(): string {
    return `${this.#options.stateDir}/update/status.json`;
  }

  /** The running version and the last update. */
  status(): UpdateStatus {
    return {
      version: VERSION,
      target: currentTarget(),
      executable: this.#executable ? `${this.#executable.kind} ${this.#executable.path}` : "script",
      ...(this.#last ? { lastUpdate: this.#last } : {}),
    };
  }

  /** Calls `listener` when the status changes; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #record(update: Omit<LastUpdate, "at">): Promise<void> {
    this.#last = { ...update, at: new Date().toISOString() };
    const log = update.result === "failed" || update.result === "rolled-back"
      ? this.#options.logger.error.bind(this.#options.logger)
      : this.#options.logger.info.bind(this.#options.logger);
    log(
      `update to ${update.version}: ${update.result}`,
      update.reason ? { reason: update.reason } : {},
    );
    await Deno.mkdir(`${this.#options.stateDir}/update`, { recursive: true, mode: 0o700 });
    if (update.deploymentVersion !== undefined) {
      this.#attempted = { version: update.version, deploymentVersion: update.deploymentVersion };
    }
    const saved = { lastUpdate: this.#last, attempted: this.#attempted };
    await writeFileAtomic(this.#statusPath, JSON.stringify(saved, null, 2) + "\n");
    for (const listener of this.#listeners) listener();
  }

  /** Reads the last outcome, takes the launcher's rollback report, and checks a trial. */
  async start(): Promise<void> {
    this.#trusted = await loadTrustedKeys(this.#options.config, this.#options.logger);
    try {
      const saved = JSON.parse(await Deno.readTextFile(this.#statusPath));
      this.#last = saved.lastUpdate;
      this.#attempted = saved.attempted;
    } catch { /* no update yet */ }
    const exe = this.#executable?.path;
    if (!exe) return this.#committed();
    const rolledBack = await takeRollbackResult(exe);
    if (rolledBack) {
      await this.#record({
        version: rolledBack.version,
        result: "rolled-back",
        reason: rolledBack.reason,
        from: rolledBack.fromVersion,
        ...this.#sameDeployment(rolledBack.version),
      });
      await pruneRuntimes(exe, this.#options.logger);
    }
    const marker = await readMarker(exe);
    if (!marker) return this.#committed();
    if (marker.toVersion !== VERSION) {
      this.#options.logger.warn("removing the marker of an update that did not happen", {
        version: marker.toVersion,
      });
      await removeMarker(exe);
      return this.#committed();
    }
    this.#onTrial = true;
    if (this.#executable?.kind === "compiled") {
      await writeMarker(exe, { ...marker, attempts: marker.attempts + 1 });
      if (marker.attempts + 1 > 3) {
        return this.#giveUp(`not confirmed after ${marker.attempts} starts`);
      }
    }
    this.#watchTrial(Date.now() + marker.windowSeconds * 1000);
  }

  #committed(): void {
    try {
      this.#options.committed?.();
    } catch (error) {
      this.#options.logger.error("cannot act on the confirmed version", { error });
    }
  }

  #sameDeployment(version: string): { deploymentVersion?: number } {
    const known = this.#last?.version === version ? this.#last.deploymentVersion : undefined;
    return known === undefined ? {} : { deploymentVersion: known };
  }

  /** Confirms once connected to the parent (if any), or gives up at the deadline. */
  #watchTrial(deadlineMs: number): void {
    const check = async () => {
      this.#confirmTimer = undefined;
      const needsParent = this.#options.config.upstream.enabled;
      if (!needsParent || this.#options.upstreamConnected()) return await this.#confirm();
      if (Date.now() >= deadlineMs) {
        return await this.#giveUp(
          `not connected to the parent within ${this.#options.config.update.confirm_seconds}s`,
        );
      }
      this.#confirmTimer = setTimeout(check, 500);
    };
    this.#confirmTimer = setTimeout(check, 0);
  }

  async #confirm(): Promise<void> {
    await removeMarker(this.#executable!.path);
    this.#onTrial = false;
    this.#committed();
    await pruneRuntimes(this.#executable!.path, this.#options.logger);
    await this.#record({
      version: VERSION,
      result: "succeeded",
      ...(this.#last?.version === VERSION && this.#last.from ? { from: this.#last.from } : {}),
      ...this.#sameDeployment(VERSION),
    });
  }

  /** The new version is not good: say why, and let the previous one come back. */
  async #giveUp(reason: string): Promise<void> {
    const exe = this.#executable!.path;
    const marker = await readMarker(exe);
    this.#options.logger.error("giving up the new version", { version: VERSION, reason });
    if (this.#executable!.kind === "self-extracting") {
      // The launcher rolls back when the daemon exits with the marker still there.
      if (marker) await writeMarker(exe, { ...marker, reason });
      this.#options.exit(1, `update to ${VERSION} given up: ${reason}`);
      return;
    }
    await putPreviousBack(exe);
    await this.#record({
      version: VERSION,
      result: "rolled-back",
      reason,
      ...(marker ? { from: marker.fromVersion } : {}),
    });
    this.#options.exit(EXIT_RESTART, `rolled back from ${VERSION}: ${reason}`);
  }

  /** Clears timers. */
  stop(): void {
    if (this.#confirmTimer !== undefined) clearTimeout(this.#confirmTimer);
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
  }

  /**
   * The deployment wants `version` (`runtime.settings.ledgeVersion`). A deployment is tried once
   * (a new deployment tries again); only a parent out of reach is retried, with back-off.
   */
  async desired(
    version: string | undefined,
    deploymentVersion: number,
    retrying = false,
  ): Promise<void> {
    this.#wanted = { version, deploymentVersion };
    if (this.#retryTimer !== undefined && !retrying) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      this.#retryDelayMs = RETRY_FIRST_MS;
    }
    if (!version || version === VERSION || this.#onTrial || this.#busy) return;
    const tried = this.#attempted;
    const triedThis = tried?.version === version && tried.deploymentVersion === deploymentVersion &&
      this.#last?.result !== "downloading";
    if (triedThis && !retrying) return;
    await this.#run(version, { deploymentVersion }, async (install) => {
      const endpoint = parentEndpoint(this.#options.config);
      try {
        const { descriptor, file } = await fetchFromParent(endpoint, version, currentTarget());
        if (descriptor.version !== version) {
          await file.cancel();
          throw new UpdateRefusedError(`the parent served ${descriptor.version} for ${version}`);
        }
        await install(file, descriptor);
      } finally {
        endpoint.close();
      }
    });
  }

  /**
   * Installs a local file (`ledge update <file>`) and restarts into it.
   *
   * @throws {UpdateRefusedError} naming why nothing changed.
   */
  async installLocal(
    file: ReadableStream<Uint8Array>,
    descriptor: ArtifactDescriptor,
  ): Promise<void> {
    if (this.#onTrial || this.#busy) {
      await file.cancel();
      throw new UpdateRefusedError("an update is already under way");
    }
    let failure: unknown;
    await this.#run(descriptor.version, {}, (install) => install(file, descriptor), (error) => {
      failure = error;
    });
    if (failure) throw failure;
  }

  async #run(
    version: string,
    origin: { deploymentVersion?: number },
    obtain: (
      install: (file: ReadableStream<Uint8Array>, d: ArtifactDescriptor) => Promise<void>,
    ) => Promise<void>,
    onFailure?: (error: unknown) => void,
  ): Promise<void> {
    this.#busy = true;
    try {
      const executable = this.#executable;
      if (!executable) {
        throw new UpdateRefusedError(
          "ledge runs as a script (deno run), not from a release executable: nothing to replace",
        );
      }
      await this.#record({ version, result: "downloading", from: VERSION, ...origin });
      await obtain((file, descriptor) =>
        installUpdate(file, descriptor, {
          executable,
          trusted: this.#trusted,
          windowSeconds: this.#options.config.update.confirm_seconds,
          logger: this.#options.logger,
        })
      );
      await this.#record({ version, result: "restarting", from: VERSION, ...origin });
      this.#options.exit(EXIT_RESTART, `restarting into ${version}`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const retryable = error instanceof ParentArtifactError &&
        origin.deploymentVersion !== undefined;
      await this.#record({
        version,
        result: "failed",
        reason: retryable ? `${reason} (trying again in ${this.#retryDelayMs / 1000}s)` : reason,
        from: VERSION,
        ...origin,
      });
      if (retryable) this.#retryLater();
      onFailure?.(error);
    } finally {
      this.#busy = false;
    }
  }

  #retryLater(): void {
    const delay = this.#retryDelayMs;
    this.#retryDelayMs = Math.min(delay * 2, RETRY_MAX_MS);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      const wanted = this.#wanted;
      if (wanted) this.desired(wanted.version, wanted.deploymentVersion, true).catch(() => {});
    }, delay);
  }
}
