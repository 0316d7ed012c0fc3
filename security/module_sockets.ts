/**
 * The two sockets of one module, in its own directory `<state>/mnt/<module>/`: `workload.sock`
 * (IoT Edge workload API, HTTP) and `spiffe.sock` (SPIFFE Workload API, gRPC). The directory,
 * not the sockets, is bind-mounted into the module, so re-created sockets stay reachable.
 */
import type { Logger } from "../core/log.ts";
import { serveSpiffeApi, type SpiffeSource } from "./spiffe_server.ts";
import { type WorkloadBackend, workloadHandler } from "./workload_api.ts";

/** The socket file names inside a module's directory. */
export const WORKLOAD_SOCKET = "workload.sock";
/** The SPIFFE socket file name inside a module's directory. */
export const SPIFFE_SOCKET = "spiffe.sock";

/** Unix socket paths must fit `sun_path` (108 bytes with its terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** The serving sockets of one module. */
export interface ModuleSockets {
  readonly dir: string;
  close(): Promise<void>;
}

/** Checks that both socket paths under `dir` fit a unix socket address. */
export function checkSocketPaths(dir: string): void {
  for (const name of [WORKLOAD_SOCKET, SPIFFE_SOCKET]) {
    const path = `${dir}/${name}`;
    const bytes = new TextEncoder().encode(path).length;
    if (bytes > MAX_SOCKET_PATH_BYTES) {
      throw new RangeError(
        `Cannot serve ${path}: a unix socket path must be at most ${MAX_SOCKET_PATH_BYTES} bytes, this is ${bytes} (use a shorter state.dir or module id)`,
      );
    }
  }
}

/** Serves both APIs of one module in `dir` (created 0755; sockets 0666, reachable only there). */
export async function serveModuleSockets(
  dir: string,
  options: { backend: WorkloadBackend; spiffe: SpiffeSource; logger: Logger },
): Promise<ModuleSockets> {
  checkSocketPaths(dir);
  // `mnt/` stays 0700 like the rest of the state dir; the module's own directory is 0755 and its
  // sockets 0666 because the container's user, whoever it is, reaches them through the bind mount.
  await Deno.mkdir(dir.slice(0, dir.lastIndexOf("/")), { recursive: true, mode: 0o700 });
  await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  await Deno.chmod(dir, 0o755);
  const workloadPath = `${dir}/${WORKLOAD_SOCKET}`;
  await Deno.remove(workloadPath).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const http = Deno.serve(
    { path: workloadPath, transport: "unix", onListen: () => {} },
    workloadHandler(options.backend),
  );
  try {
    await Deno.chmod(workloadPath, 0o666);
    const spiffe = await serveSpiffeApi(`${dir}/${SPIFFE_SOCKET}`, {
      source: options.spiffe,
      logger: options.logger,
    });
    return {
      dir,
      async close() {
        await Promise.all([http.shutdown(), spiffe.close()]);
        await Deno.remove(workloadPath).catch(() => {});
      },
    };
  } catch (error) {
    await http.shutdown();
    throw error;
  }
}
