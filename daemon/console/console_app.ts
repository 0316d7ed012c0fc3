/**
 * The console's web app, loaded on its first request: the guards, the static files, and every
 * page. Pages read the daemon's parts directly (the functions the management API calls), never
 * through HTTP.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ASSETS } from "./assets.ts";
import type { ConsoleContext } from "./context.ts";
import {
  type ConsoleEnv,
  hostCheck,
  loginRoute,
  logoutRoute,
  requireSession,
  securityHeaders,
} from "./guard.ts";
import { fleetRoutes } from "./pages/fleet.ts";
import { flowRoutes } from "./pages/flow.ts";
import { identitiesRoutes } from "./pages/identities.ts";
import { modulesRoutes } from "./pages/modules.ts";
import { overviewRoutes } from "./pages/overview.ts";
import { queuesRoutes } from "./pages/queues.ts";
import { twinsRoutes } from "./pages/twins.ts";

/** Builds the console app over `context`; returns its fetch handler. */
export function createConsoleApp(context: ConsoleContext): (request: Request) => Promise<Response> {
  const app = new Hono<ConsoleEnv>();
  app.use("*", securityHeaders(context));
  app.use("*", hostCheck(context));
  // A twin is at most 32 KiB; nothing the console takes is bigger than this.
  app.use(
    "*",
    bodyLimit({ maxSize: 256 * 1024, onError: (c) => c.text("request too large\n", 413) }),
  );
  app.get("/assets/:name", (c) => {
    const asset = ASSETS[c.req.param("name")];
    if (!asset) return c.text("no such file\n", 404);
    return c.body(asset.body, 200, {
      "content-type": asset.type,
      // Names carry the version (`?v=`): a new ledge is a new URL.
      "cache-control": "public, max-age=86400",
    });
  });
  loginRoute(app, context);
  app.use("*", requireSession(context));
  logoutRoute(app, context);
  overviewRoutes(app, context);
  modulesRoutes(app, context);
  flowRoutes(app, context);
  queuesRoutes(app, context);
  twinsRoutes(app, context);
  identitiesRoutes(app, context);
  fleetRoutes(app, context);
  app.notFound((c) => c.text(`Cannot ${c.req.method} ${c.req.path}: no such page\n`, 404));
  app.onError((error, c) => {
    context.logger.error("console page failed", { path: c.req.path, error });
    return c.text(`The page failed: ${error.message}\n`, 500);
  });
  return async (request) => await app.fetch(request);
}
