/**
 * The agent's management routes: `/v1/deployment` (PUT apply, GET status), `/v1/modules`
 * (list), `/v1/modules/:name` (inspect), `/v1/modules/:name/logs` (text; `follow` streams), and
 * `/v1/modules/:name/restart|start|stop`.
 */
import { Hono } from "hono";
import { z } from "zod";
import { type ApiDocs, httpError } from "../core/api.ts";
import type { AgentService } from "./agent.ts";
import { ManifestError } from "./deployment.ts";
import { ModulesContent } from "./manifest.ts";
import { NoSuchInstanceError } from "./engine/driver.ts";
import { parseSince } from "./since.ts";

const flag = z.enum(["", "1", "0", "true", "false"], {
  error: 'expected "true" or "false"',
}).transform((v) => v === "" || v === "1" || v === "true");

/** Query of the logs route. */
export const LogsQuery = z.object({
  tail: z.string().regex(/^\d+$/, { error: "expected a whole number" }).transform(Number)
    .optional(),
  since: z.string().transform((value, ctx) => {
    try {
      return parseSince(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  }).optional(),
  follow: flag.optional(),
  timestamps: flag.optional(),
});
/** Parsed logs query. */
export type LogsQuery = z.infer<typeof LogsQuery>;

function notFound(error: unknown): never {
  if (error instanceof NoSuchInstanceError) throw httpError(404, error.message);
  throw error;
}

/** Builds the agent's routes over `agent`. */
export function createAgentApi(agent: AgentService): Hono {
  const app = new Hono();

  app.put("/v1/deployment", async (c) => {
    const text = await c.req.text();
    let manifest: unknown = undefined;
    if (text.trim() !== "") {
      try {
        manifest = JSON.parse(text);
      } catch (error) {
        throw httpError(
          400,
          `Cannot read the deployment: invalid JSON (${(error as Error).message})`,
        );
      }
    }
    try {
      return c.json(await agent.deploy(manifest));
    } catch (error) {
      if (error instanceof ManifestError) {
        throw httpError(error.code, error.message, { issues: error.issues });
      }
      throw error;
    }
  });

  app.get("/v1/deployment", (c) => {
    const current = agent.current();
    return c.json({
      ...agent.status(),
      modules: current?.modules.map((m) => m.name) ?? [],
    });
  });

  app.get("/v1/modules", (c) => c.json({ ...agent.status(), modules: agent.modules() }));

  app.get("/v1/modules/:name", (c) => {
    const module = agent.module(c.req.param("name"));
    if (!module) {
      throw httpError(
        404,
        `Cannot find module "${c.req.param("name")}": it is not in the deployment`,
      );
    }
    return c.json(module);
  });

  app.get("/v1/modules/:name/logs", async (c) => {
    const query = LogsQuery.parse(c.req.query());
    const stream = await agent.logs(c.req.param("name"), {
      ...(query.tail === undefined ? {} : { tail: query.tail }),
      ...(query.since === undefined ? {} : { since: query.since }),
      follow: query.follow ?? false,
      timestamps: query.timestamps ?? false,
      signal: c.req.raw.signal,
    }).catch(notFound);
    return new Response(stream, { headers: { "content-type": "text/plain; charset=utf-8" } });
  });

  const actions = {
    restart: (name: string) => agent.restart(name),
    start: (name: string) => agent.startModule(name),
    stop: (name: string) => agent.stopModule(name),
  };
  for (const [action, run] of Object.entries(actions)) {
    app.post(`/v1/modules/:name/${action}`, async (c) => {
      const name = c.req.param("name");
      await run(name).catch(notFound);
      return c.json({ name, action, ok: true });
    });
  }
  return app;
}

/** `PUT /v1/deployment` body: a manifest in any of the shapes `az iot edge` and IoT Edge use. */
export const DeploymentBody = z.union([
  z.object({ modulesContent: ModulesContent }),
  z.object({ content: z.object({ modulesContent: ModulesContent }) }),
  ModulesContent,
]);

/** The OpenAPI documentation of the agent routes. */
export const AGENT_API_DOCS: ApiDocs = {
  "PUT /v1/deployment": {
    summary: "Apply an IoT Edge deployment manifest",
    tag: "deployment",
    body: DeploymentBody,
  },
  "GET /v1/deployment": {
    summary: "Current deployment: version, lastDesiredStatus, converging, modules",
    tag: "deployment",
  },
  "GET /v1/modules": { summary: "Every module with its status (ledge list)", tag: "modules" },
  "GET /v1/modules/{name}": { summary: "One module's reported state", tag: "modules" },
  "GET /v1/modules/{name}/logs": {
    summary: "A module's logs; follow=true streams until the client closes",
    tag: "modules",
    query: LogsQuery,
    text: true,
  },
  "POST /v1/modules/{name}/restart": {
    summary: "Restart a module now, clearing its back-off",
    tag: "modules",
  },
  "POST /v1/modules/{name}/start": { summary: "Start a stopped module", tag: "modules" },
  "POST /v1/modules/{name}/stop": {
    summary: "Stop a module until started or redeployed",
    tag: "modules",
  },
};
