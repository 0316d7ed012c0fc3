/**
 * The management API's OpenAPI 3.1 document, served at `GET /v1/openapi.json`.
 *
 * The paths come from the routes the running app answers (so the document never lists a route
 * the daemon does not serve); what each operation does, and the request schemas, come from
 * the docs each component exports beside its routes ({@linkcode ApiDocs}), whose body schemas are
 * the same zod schemas the handlers parse with (converted by `z.toJSONSchema`). A test keeps the
 * two in step both ways.
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { ApiDocs } from "../core/api.ts";
import { VERSION } from "../core/version.ts";

/** One route as hono lists it: an upper-case method and a path with `:param` segments. */
export interface ApiRoute {
  method: string;
  path: string;
}

/** The routes the management server itself answers. */
export const SYSTEM_API_DOCS: ApiDocs = {
  "GET /v1/health": { summary: "Daemon health, version, uptime and components", tag: "system" },
  "GET /v1/openapi.json": { summary: "This OpenAPI document", tag: "system" },
  "GET /v1/logs": {
    summary: "The daemon's recent log records (JSON lines), since a Unix time",
    tag: "system",
    query: z.object({ since: z.string().optional() }),
  },
};

/** A hono path (`/v1/modules/:name`) in OpenAPI form (`/v1/modules/{name}`). */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/** The `"METHOD /path"` key of a route in an {@linkcode ApiDocs}. */
export function operationKey(route: ApiRoute): string {
  return `${route.method.toUpperCase()} ${openApiPath(route.path)}`;
}

/** The routes `app` answers: one per method and path, without middleware (`ALL`) entries. */
export function apiRoutes(app: Hono): ApiRoute[] {
  const seen = new Set<string>();
  const routes: ApiRoute[] = [];
  for (const { method, path } of app.routes) {
    if (method === "ALL") continue;
    const key = `${method} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    routes.push({ method, path });
  }
  return routes;
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return rest;
}

const ERROR_RESPONSE = {
  description: "An error: `{error, detail}` (400 names the invalid fields in `detail`)",
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};

function operation(route: ApiRoute, docs: ApiDocs): Record<string, unknown> {
  const key = operationKey(route);
  const doc = docs[key];
  const path = openApiPath(route.path);
  const parameters: Record<string, unknown>[] = [...path.matchAll(/\{([^}]+)\}/g)].map((
    match,
  ) => ({ name: match[1], in: "path", required: true, schema: { type: "string" } }));
  if (doc?.query) {
    const shape = jsonSchema(doc.query) as {
      properties?: Record<string, unknown>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(shape.properties ?? {})) {
      parameters.push({
        name,
        in: "query",
        required: shape.required?.includes(name) ?? false,
        schema,
      });
    }
  }
  const status = String(doc?.status ?? 200);
  const success = status === "204" ? { description: "Done; no body" } : {
    description: "Success",
    content: doc?.text
      ? { "text/plain": { schema: { type: "string" } } }
      : { "application/json": { schema: {} } },
  };
  return {
    operationId: key.replace(/[^A-Za-z0-9]+/g, "_").replace(/_+$/, ""),
    summary: doc?.summary ?? "Undocumented route",
    tags: [doc?.tag ?? "undocumented"],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc?.body
      ? {
        requestBody: {
          required: true,
          content: { "application/json": { schema: jsonSchema(doc.body) } },
        },
      }
      : {}),
    responses: { [status]: success, default: ERROR_RESPONSE },
  };
}

/**
 * The OpenAPI 3.1 document of `routes` (from {@linkcode apiRoutes} of the running app), described
 * by `docs` (the server's own and every component's, merged).
 *
 * @example
 * ```ts
 * app.get("/v1/openapi.json", (c) => c.json(openApiDocument(apiRoutes(app), SYSTEM_API_DOCS)));
 * ```
 */
export function openApiDocument(
  routes: readonly ApiRoute[],
  docs: ApiDocs,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route, docs);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "ledge management API",
      version: VERSION,
      description:
        "HTTP over the unix socket <state>/mgmt.sock (mode 0660); the CLI is its client.",
    },
    servers: [{ url: "http://ledge", description: "curl --unix-socket <state>/mgmt.sock" }],
    paths,
    components: {
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: { error: { type: "string" }, detail: {} },
        },
      },
    },
  };
}
