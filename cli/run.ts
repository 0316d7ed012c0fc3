/** `ledge run`: the daemon, in the foreground until SIGINT or SIGTERM. */
import { Command, Option } from "commander";
import type { RuntimeContext } from "../core/component.ts";
import { buildComponents, startDaemon } from "../daemon/mod.ts";
import { createLogger, type LogFormat, type LogLevel } from "../core/log.ts";
import { createLogRing } from "../core/log_ring.ts";
import { VERSION } from "../core/version.ts";
import { configFor, ExitError, globalOptions } from "./_shared.ts";

/** How long a clean stop may take before the process exits anyway. */
const STOP_TIMEOUT_MS = 10_000;

interface RunOptions {
  logFormat?: LogFormat;
  logLevel?: LogLevel;
}

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

/** Builds the `run` verb. */
export function runCommand(): Command {
  return new Command("run")
    .description("run the daemon in the foreground (no config needed)")
    .addOption(new Option("--log-format <format>", "log format").choices(["pretty", "json"]))
    .addOption(
      new Option("--log-level <level>", "log level").choices(["debug", "info", "warn", "error"]),
    )
    .action(async (options: RunOptions, command: Command) => {
      const config = await configFor(command);
      const configured = config.log.format === "auto" ? undefined : config.log.format;
      const logRing = createLogRing();
      const logger = createLogger({
        ring: logRing,
        level: options.logLevel ?? config.log.level,
        format: options.logFormat ?? configured ?? (Deno.stderr.isTerminal() ? "pretty" : "json"),
      });
      const context: RuntimeContext = { config, stateDir: config.state.dir, logger, logRing };
      const starting = new AbortController();
      const signalled = waitForSignal().then((name) => {
        starting.abort(new Error(`stopped by ${name} while starting`));
        return name;
      });
      const begun = performance.now();
      // The console shows `ledge check`; the checks live above the daemon, so they come in here.
      const configPath = globalOptions(command).config;
      const components = buildComponents(context, {
        // Loaded when the console first shows them: a daemon nobody looks at never loads them.
        checks: async () => (await import("../ops/checks/mod.ts")).checkAll({ configPath }),
      });
      const daemon = await startDaemon(context, components, starting.signal);
      logger.info("ledge is ready", {
        version: VERSION,
        stateDir: context.stateDir,
        deviceId: config.device.id,
        listeners: daemon.listeners(),
        startupMs: Math.round(performance.now() - begun),
      });
      const name = await signalled;
      logger.info("stopping", { signal: name });
      // A second signal while stopping forces the exit.
      waitForSignal().then((again) => {
        logger.warn("forced exit", { signal: again });
        Deno.exit(EXIT_FORCED);
      });
      const clean = await daemon.stop(STOP_TIMEOUT_MS);
      if (!clean) throw new ExitError(1, `Cannot stop cleanly within ${STOP_TIMEOUT_MS / 1000} s`);
      logger.info("stopped");
      // Signal listeners and libraries may hold the event loop; the daemon is done.
      Deno.exit(0);
    });
}

const EXIT_FORCED = 1;
