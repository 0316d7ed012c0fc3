/**
 * Finding the container engine at start-up: the driver given by the caller, else the socket
 * `[agent]` and the environment point to; then one bounded question to the engine, so the log
 * says which engine runs the modules (an engine that does not answer yet is retried by the loop).
 */
import type { RuntimeContext } from "../core/component.ts";
import type { EngineDriver, EngineInfo } from "./engine/driver.ts";
import { ledgeInstanceId } from "./engine/labels.ts";
import { findEngineSocket } from "./engine/select_engine.ts";

/** How long start-up waits for the engine's first answer. */
const FIRST_ANSWER_MS = 3000;

/** The engine the agent runs containers on, if any. */
export interface EngineConnection {
  driver: EngineDriver | undefined;
  /** Its socket, when the agent found it itself. */
  socket: string | undefined;
  /** What the engine said about itself, when it answered in time. */
  info: EngineInfo | undefined;
}

/**
 * Connects to the container engine.
 *
 * @param given a driver chosen by the caller (tests, embedding), used as is.
 */
export async function connectEngine(
  context: RuntimeContext,
  given: EngineDriver | undefined,
  signal: AbortSignal,
): Promise<EngineConnection> {
  const { config, logger } = context;
  let driver = given;
  let socket: string | undefined;
  if (!driver) {
    socket = await findEngineSocket(config.agent, Deno.env.toObject());
    if (socket) {
      // Imported here, not with the agent: a device without an engine never loads the client.
      const { createDockerDriver } = await import("./engine/docker_driver.ts");
      driver = createDockerDriver({
        socketPath: socket,
        instance: ledgeInstanceId(context.stateDir),
      });
    }
  }
  if (!driver) {
    logger.info("no container engine: only process modules run");
    return { driver, socket, info: undefined };
  }
  const info = await driver.info(AbortSignal.any([signal, AbortSignal.timeout(FIRST_ANSWER_MS)]))
    .catch((error) => {
      logger.warn("the container engine does not answer yet", { socket, error });
      return undefined;
    });
  if (info) {
    logger.info("container engine", { name: info.name, version: info.version, socket });
  }
  return { driver, socket, info };
}
