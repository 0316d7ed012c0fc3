/**
 * The SPIFFE Workload API for one workload, on that workload's own unix socket: the socket is the
 * caller's identity. The socket is listened on natively; grpc-js and the protobuf code are loaded
 * when the first connection arrives (spiffe_service.ts), so an idle device holds none of them.
 */
import type { Logger } from "../core/log.ts";
import type { SpiffeService } from "./spiffe_service.ts";
import type { SpiffeServer, SpiffeSource } from "./spiffe_source.ts";

export type { SpiffeServer, SpiffeSource, X509SvidMaterial } from "./spiffe_source.ts";

/**
 * Serves the Workload API on the unix socket `socketPath` (an existing file there is replaced).
 */
export async function serveSpiffeApi(
  socketPath: string,
  options: { source: SpiffeSource; logger: Logger },
): Promise<SpiffeServer> {
  const { source, logger } = options;
  await Deno.remove(socketPath).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const listener = Deno.listen({ transport: "unix", path: socketPath });
  await Deno.chmod(socketPath, 0o666);
  let service: Promise<SpiffeService> | undefined;
  const pending = new Set<Deno.Conn>();
  const accepting = (async () => {
    for await (const conn of listener) {
      pending.add(conn);
      service ??= import("./spiffe_service.ts").then((loaded) => {
        logger.debug("SPIFFE Workload API: first call, gRPC loaded", { socket: socketPath });
        return loaded.createSpiffeService(source);
      });
      service.then((ready) => {
        if (pending.delete(conn)) ready.serve(conn);
      }, (error) => {
        logger.error("SPIFFE Workload API cannot serve", { socket: socketPath, error });
        if (pending.delete(conn)) conn.close();
      });
    }
  })().catch(() => {/* the listener was closed */});
  logger.debug("SPIFFE Workload API listening", { socket: socketPath });
  return {
    async close() {
      listener.close();
      await accepting;
      for (const conn of pending) conn.close();
      pending.clear();
      await (await service?.catch(() => undefined))?.close();
      await Deno.remove(socketPath).catch(() => {});
    },
  };
}
