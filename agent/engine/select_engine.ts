/**
 * Which engine socket to use: `[agent] engine_socket`, else `DOCKER_HOST` (unix://), else the
 * first of Podman's and Docker's default sockets that exists.
 */
import type { Config } from "../../core/config.ts";

/** Default sockets, in the order they are tried. */
export const DEFAULT_ENGINE_SOCKETS = ["/run/podman/podman.sock", "/var/run/docker.sock"] as const;

/** Where the engine socket is, or undefined when the device has none (or `engine = "none"`). */
export async function findEngineSocket(
  agent: Config["agent"],
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  if (agent.engine === "none") return undefined;
  if (agent.engine_socket) return agent.engine_socket.replace(/^unix:\/\//, "");
  const dockerHost = env.DOCKER_HOST;
  if (dockerHost?.startsWith("unix://")) return dockerHost.slice("unix://".length);
  for (const path of DEFAULT_ENGINE_SOCKETS) {
    const exists = await Deno.stat(path).then((s) => s.isSocket === true, () => false);
    if (exists) return path;
  }
  // "docker" insists on an engine: keep retrying the usual socket until one appears.
  return agent.engine === "docker" ? "/var/run/docker.sock" : undefined;
}
