/**
 * The agent's management routes: `/v1/deployment` (PUT apply, GET status), `/v1/modules`
 * (list), `/v1/modules/:name` (inspect), `/v1/modules/:name/logs` (text; `follow` streams), and
 * `/v1/modules/:name/restart|start|stop`.
 */
import { Hono } from "hono";
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import { type ApiDocs, httpError, jsonBody, queryOf } from "../core/api.ts";
import type { AgentService } from "./agent.ts";
import { ManifestError } from "./deployment.ts";
import { ModulesContent } from "./manifest.ts";
import { NoSuchInstanceError } from "./engine/driver.ts";
import { parseSince } from "./since.ts";

const flag = lazySchema(() =>
  z.enum(["", "1", "0", "true", "false"], {
    error: 'expected "true" or "false"',
  }).transform((v) => v === "" || v === "1" || v === "true")
);

/** Query of the logs route. */
export const LogsQuery = lazySchema(() =>
  z.object({
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
  })
);
/** Parsed logs query. */
export type LogsQuery = z.infer<typeof LogsQuery>;

function notFound(error: unknown): never {
  if (error instanceof NoSuchInstanceError) throw httpError(404, error.message);
  throw error;
}

async function moduleAction(name: string, action: string, run: (name: string) => Promise<void>) {
  await run(name).catch(notFound);
  return { name, action, ok: true };
}

/** Query of `PUT /v1/deployment`: `rollback=false` opts out of the health-gated rollback. */
export const DeployQuery = lazySchema(() => z.object({ rollback: flag.optional() }));

/** Builds the agent's routes over `agent`. */
export function createAgentApi(agent: AgentService) {
  return new Hono()
    .put(
      "/v1/deployment",
      jsonBody(z.unknown(), { what: "the deployment" }),
      queryOf(DeployQuery),
      async (c) => {
        const { rollback } = c.req.valid("query");
        try {
          return c.json(
            await agent.deploy(c.req.valid("json"), rollback === false ? { rollback: false } : {}),
          );
        } catch (error) {
          if (error instanceof ManifestError) {
            throw httpError(error.code, error.message, { issues: error.issues });
          }
          throw error;
        }
      },
    )
    .get("/v1/deployment", (c) =>
      c.json({
        ...agent.status(),
        modules: agent.current()?.modules.map((m) => m.name) ?? [],
      }))
    .get("/v1/modules", (c) => c.json({ ...agent.status(), modules: agent.modules() }))
    .get("/v1/modules/:name", (c) => {
      const module = agent.module(c.req.param("name"));
      if (!module) {
        throw httpError(
          404,
          `Cannot find module "${c.req.param("name")}": it is not in the deployment`,
        );
      }
      return c.json(module);
    })
    .get("/v1/modules/:name/logs", queryOf(LogsQuery), async (c) => {
      const query = c.req.valid("query");
      const stream = await agent.logs(c.req.param("name"), {
        ...(query.tail === undefined ? {} : { tail: query.tail }),
        ...(query.since === undefined ? {} : { since: query.since }),
        follow: query.follow ?? false,
        timestamps: query.timestamps ?? false,
        signal: c.req.raw.signal,
      }).catch(notFound);
      return c.body(stream, 200, { "content-type": "text/plain; charset=utf-8" });
    })
    .post(
      "/v1/modules/:name/restart",
      async (c) =>
        c.json(await moduleAction(c.req.param("name"), "restart", (name) => agent.restart(name))),
    )
    .post(
      "/v1/modules/:name/start",
      async (c) =>
        c.json(await moduleAction(c.req.param("name"), "start", (name) => agent.startModule(name))),
    )
    .post(
      "/v1/modules/:name/stop",
      async (c) =>
        c.json(await moduleAction(c.req.param("name"), "stop", (name) => agent.stopModule(name))),
    );
}

/** The agent's routes, as hono's typed client (`hc`) sees them. */
export type AgentApi = ReturnType<typeof createAgentApi>;

/** `PUT /v1/deployment` body: a manifest in any of the shapes `az iot edge` and IoT Edge use. */
export const DeploymentBody = lazySchema(() =>
  z.union([
    z.object({ modulesContent: ModulesContent }),
    z.object({ content: z.object({ modulesContent: ModulesContent }) }),
    ModulesContent,
  ])
);

/** The OpenAPI documentation of the agent routes. */
export const AGENT_API_DOCS: ApiDocs = {
  "PUT /v1/deployment": {
    summary:
      "Apply an IoT Edge deployment manifest; rolled back if not healthy within agent.rollback_after_seconds (rollback=false: never)",
    query: DeployQuery,
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
