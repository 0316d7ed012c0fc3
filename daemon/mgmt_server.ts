/**
 * The management API: HTTP (hono) over `<state>/mgmt.sock`, the CLI's way into the daemon.
 * Components contribute their routes; this file owns the socket, health, and error mapping.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { Component } from "../core/component.ts";
import type { Logger } from "../core/log.ts";
import type { LogRing } from "../core/log_ring.ts";
import { apiRoutes, openApiDocument } from "./openapi.ts";
import { VERSION } from "../core/version.ts";

/** The management socket's path inside the state dir. */
export function mgmtSocketPath(stateDir: string): string {
  return `${stateDir}/mgmt.sock`;
}

/** An error a route throws to answer with a status and a JSON `{error, detail}` body. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly detail: unknown;
  constructor(status: number, message: string, detail?: unknown) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

/** Builds the management app: `/v1/health` plus every component's routes, one error mapper. */
export function createMgmtApp(
  components: readonly Component[],
  logger: Logger,
  options: { logRing?: LogRing | undefined } = {},
): Hono {
  const startedAt = Date.now();
  const app = new Hono();
  app.get("/v1/health", (c) =>
    c.json({
      status: "ok",
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      components: components.map((component) => component.name),
    }));
  app.get("/v1/logs", (c) => {
    const since = c.req.query("since");
    const sinceSeconds = since === undefined ? 0 : Number(since);
    if (!Number.isFinite(sinceSeconds)) {
      throw new ApiError(400, `Cannot read logs: since must be Unix seconds, got "${since}"`);
    }
    const lines = options.logRing?.since(sinceSeconds * 1000) ?? [];
    return c.text(lines.length > 0 ? lines.join("\n") + "\n" : "");
  });
  app.get("/v1/openapi.json", (c) => c.json(openApiDocument(apiRoutes(app))));
  for (const component of components) {
    if (component.api) app.route("/", component.api);
  }
  app.notFound((c) =>
    c.json({ error: `Cannot ${c.req.method} ${c.req.path}: no such route`, detail: null }, 404)
  );
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      // deno-lint-ignore no-explicit-any
      return c.json({ error: error.message, detail: error.detail ?? null }, error.status as any);
    }
    if (error instanceof z.ZodError) {
      const detail = error.issues.map((issue) => ({
        path: issue.path.join("."),
        message: issue.message,
      }));
      return c.json({ error: "Invalid request body", detail }, 400);
    }
    if (error instanceof HTTPException) {
      return c.json({ error: error.message, detail: null }, error.status);
    }
    logger.error("management request failed", { path: c.req.path, error });
    return c.json(
      { error: error instanceof Error ? error.message : String(error), detail: null },
      500,
    );
  });
  return app;
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
