/** The daemon in the foreground (`ledge run`), until SIGINT or SIGTERM or a self-update. */
import type { RuntimeContext } from "../core/component.ts";
import { loadConfig } from "../core/config_load.ts";
import type { Config } from "../core/config.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { createLogRing, type LogRing } from "../core/log_ring.ts";
import { VERSION } from "../core/version.ts";
import { buildComponents, EXIT_RESTART, startDaemon } from "../daemon/mod.ts";
import { ExitError } from "./_shared.ts";
import type { RunOptions } from "./run_args.ts";

/** How long a clean stop may take before the process exits anyway. */
const STOP_TIMEOUT_MS = 10_000;
const EXIT_FORCED = 1;

function waitForSignal(): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handlers = signals.map((name) => {
      const handler = () => {
        signals.forEach((other, i) => Deno.removeSignalListener(other, handlers[i]!));
        resolve(name);
      };
      Deno.addSignalListener(name, handler);
      return handler;
    });
  });
}

/** Why the daemon stops: a signal, or a component asking (a self-update restarts in place). */
type StopOutcome = { signal: Deno.Signal | undefined; code: number; reason: string };

function loggerFor(config: Config, options: RunOptions, logRing: LogRing): Logger {
  const configured = config.log.format === "auto" ? undefined : config.log.format;
  return createLogger({
    ring: logRing,
    level: options.logLevel ?? config.log.level,
    format: options.logFormat ?? configured ?? (Deno.stderr.isTerminal() ? "pretty" : "json"),
  });
}

/** Runs the daemon until SIGINT or SIGTERM (or a component's exit request). */
export async function runDaemon(options: RunOptions): Promise<void> {
  const { config } = await loadConfig({ path: options.config });
  const logRing = createLogRing();
  const logger = loggerFor(config, options, logRing);
  const context: RuntimeContext = { config, stateDir: config.state.dir, logger, logRing };
  const starting = new AbortController();
  const signalled = waitForSignal().then((name) => {
    starting.abort(new Error(`stopped by ${name} while starting`));
    return name;
  });
  const begun = performance.now();
  // The RSS of the loaded code alone, before any component starts (bench/footprint.ts).
  logger.debug("modules loaded", { rssMb: Math.round(Deno.memoryUsage().rss / 104857.6) / 10 });
  const exitRequest = Promise.withResolvers<{ code: number; reason: string }>();
  // The console shows `ledge check`; the checks live above the daemon, so they come in here,
  // loaded when the console first asks.
  const components = buildComponents(context, {
    checks: async () =>
      (await import("../ops/checks/mod.ts")).checkAll({ configPath: options.config }),
    exit: (code, reason) => exitRequest.resolve({ code, reason }),
  });
  const daemon = await startDaemon(context, components, starting.signal);
  logger.info("ledge is ready", {
    version: VERSION,
    stateDir: context.stateDir,
    deviceId: config.device.id,
    listeners: daemon.listeners(),
    startupMs: Math.round(performance.now() - begun),
  });
  const outcome: StopOutcome = await Promise.race([
    signalled.then((name) => ({ signal: name, code: 0, reason: "" })),
    exitRequest.promise.then((request) => ({ signal: undefined, ...request })),
  ]);
  logger.info("stopping", outcome.signal ? { signal: outcome.signal } : { reason: outcome.reason });
  // A second signal while stopping forces the exit.
  waitForSignal().then((again) => {
    logger.warn("forced exit", { signal: again });
    Deno.exit(EXIT_FORCED);
  });
  const clean = await daemon.stop(STOP_TIMEOUT_MS);
  if (!clean) throw new ExitError(1, `Cannot stop cleanly within ${STOP_TIMEOUT_MS / 1000} s`);
  logger.info("stopped");
  if (outcome.code === EXIT_RESTART) restartInPlace(logger);
  // Signal listeners and libraries may hold the event loop; the daemon is done.
  Deno.exit(outcome.code);
}

/**
 * Starts ledge again after a self-update. The release launcher (LEDGE_LAUNCHER) and systemd
 * (INVOCATION_ID; the unit restarts on 75) do it on exit code 75; otherwise a compiled binary
 * starts its successor itself, detached, and this process ends.
 */
function restartInPlace(logger: Logger): never {
  const env = Deno.env.toObject();
  if (env.LEDGE_LAUNCHER === "1" || env.INVOCATION_ID) Deno.exit(EXIT_RESTART);
  try {
    new Deno.Command(Deno.execPath(), { args: Deno.args, stdin: "null", detached: true }).spawn()
      .unref();
    Deno.exit(0);
  } catch (error) {
    logger.error("cannot start the new version", { error });
    Deno.exit(EXIT_RESTART);
  }
}
