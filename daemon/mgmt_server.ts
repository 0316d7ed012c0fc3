/**
 * The management API: HTTP (hono) over `<state>/mgmt.sock`, the CLI's way into the daemon.
 * Components contribute their routes; this file owns the socket, health, and error mapping.
 */
import { Hono } from "hono";
import type { Component } from "../core/component.ts";
import type { Logger } from "../core/log.ts";
import type { LogRing } from "../core/log_ring.ts";
import { answerErrorsAsJson, type ApiDocs, httpError } from "../core/api.ts";
import { apiRoutes, openApiDocument, SYSTEM_API_DOCS } from "./openapi.ts";
import { boundListeners } from "./lifecycle.ts";
import { VERSION } from "../core/version.ts";

/** The documentation of every route: the server's own and each component's. */
export function mgmtApiDocs(components: readonly Component[]): ApiDocs {
  return Object.assign({}, SYSTEM_API_DOCS, ...components.map((component) => component.apiDocs));
}

/** The server's own routes: health (with the ports each listener bound) and recent logs. */
export function createSystemApi(components: readonly Component[], logRing?: LogRing) {
  const startedAt = Date.now();
  return new Hono()
    .get("/v1/health", (c) =>
      c.json({
        status: "ok",
        version: VERSION,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        components: components.map((component) => component.name),
        listeners: boundListeners(components),
      }))
    .get("/v1/logs", (c) => {
      const since = c.req.query("since");
      const sinceSeconds = since === undefined ? 0 : Number(since);
      if (!Number.isFinite(sinceSeconds)) {
        throw httpError(400, `Cannot read logs: since must be Unix seconds, got "${since}"`);
      }
      const lines = logRing?.since(sinceSeconds * 1000) ?? [];
      return c.text(lines.length > 0 ? lines.join("\n") + "\n" : "");
    });
}

/** The server's own routes, as hono's typed client (`hc`) sees them. */
export type SystemApi = ReturnType<typeof createSystemApi>;

/** Builds the management app: `/v1/health` plus every component's routes, one error mapper. */
export function createMgmtApp(
  components: readonly Component[],
  logger: Logger,
  options: { logRing?: LogRing | undefined } = {},
): Hono {
  const app = new Hono().route("/", createSystemApi(components, options.logRing));
  app.get(
    "/v1/openapi.json",
    (c) => c.json(openApiDocument(apiRoutes(app), mgmtApiDocs(components))),
  );
  for (const component of components) {
    if (component.api) app.route("/", component.api);
  }
  return answerErrorsAsJson(app, logger);
}

/** A running management server. */
export interface MgmtServer {
  readonly path: string;
  shutdown(): Promise<void>;
}

/** Serves `app` on the unix socket at `path` (mode 0660), replacing a stale socket file. */
export async function serveMgmt(app: Hono, path: string): Promise<MgmtServer> {
  await Deno.remove(path).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const server = Deno.serve({ path, transport: "unix", onListen: () => {} }, app.fetch);
  await Deno.chmod(path, 0o660);
  return {
    path,
    async shutdown() {
      await server.shutdown();
      await Deno.remove(path).catch(() => {});
    },
  };
}
