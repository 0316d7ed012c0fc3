/**
 * The daemon: prepares the state dir, starts the components in order (security -> hub -> agent),
 * serves the management API, and stops everything in reverse.
 */
import type { Component, RuntimeContext } from "../core/component.ts";
import { boundListeners, startComponents, stopComponents } from "./lifecycle.ts";
import { mgmtSocketPath } from "../core/state_dir.ts";
import { createMgmtApp, type MgmtServer, serveMgmt } from "./mgmt_server.ts";
import { prepareStateDir, tightenStateDir } from "../core/state_dir.ts";
import { answersHealth } from "./health_probe.ts";
import { startIdleCollector } from "./idle_collector.ts";

/** A running daemon. */
export interface Daemon {
  readonly components: readonly Component[];
  /** Every component's bound TCP ports by listener name (see `Component.listeners`). */
  listeners(): Record<string, number>;
  /** Stops everything; resolves false when `timeoutMs` ran out first. */
  stop(timeoutMs?: number): Promise<boolean>;
}

/**
 * Starts a daemon from `context` with `components` (in start order).
 *
 * @throws when the state dir is unusable, another ledge already serves it, or a component fails.
 */
export async function startDaemon(
  context: RuntimeContext,
  components: readonly Component[],
  signal: AbortSignal,
): Promise<Daemon> {
  const { logger, stateDir } = context;
  await prepareStateDir(stateDir);
  const tightened = await tightenStateDir(stateDir);
  if (tightened.length > 0) {
    logger.warn("tightened the modes of state dir entries that others could read", {
      count: tightened.length,
      first: tightened.slice(0, 5),
    });
  }
  const socketPath = mgmtSocketPath(stateDir);
  if (await answersHealth(socketPath)) {
    throw new Error(`Cannot start: another ledge is running with state dir ${stateDir}`);
  }
  const started = await startComponents(components, { logger, signal });
  let mgmt: MgmtServer;
  try {
    mgmt = await serveMgmt(
      createMgmtApp(components, logger.child("mgmt"), { logRing: context.logRing }),
      socketPath,
    );
  } catch (error) {
    await stopComponents(started, { logger, timeoutMs: 10_000 });
    throw error;
  }
  const collector = startIdleCollector(logger.child("memory"));
  return {
    components,
    listeners: () => boundListeners(components),
    async stop(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      collector?.stop();
      await mgmt.shutdown();
      return await stopComponents(started, {
        logger,
        timeoutMs: Math.max(0, deadline - Date.now()),
      });
    },
  };
}
