/**
 * The management API's OpenAPI 3.1 document, served at `GET /v1/openapi.json`.
 *
 * The paths come from the routes the running app answers (so the document never lists a route
 * the daemon does not serve); what each operation does, and the request schemas, come from
 * {@linkcode OPERATIONS}, whose body schemas are the same zod schemas the handlers parse with
 * (converted by `z.toJSONSchema`). A test keeps the two in step both ways.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { LogsQuery } from "../agent/api.ts";
import { ModulesContent } from "../agent/manifest.ts";
import { C2DRequest, DesiredPatch, InvokeRequest } from "../hub/mgmt_api.ts";
import { AddDeviceRequest, RenewRequest } from "../security/mgmt_api.ts";
import { VERSION } from "../core/version.ts";

/** One route as hono lists it: an upper-case method and a path with `:param` segments. */
export interface ApiRoute {
  method: string;
  path: string;
}

/** What the document says about one operation. */
export interface OperationDoc {
  summary: string;
  /** The area: modules, deployment, identities, certificates, twins, methods, c2d, hub, … */
  tag: string;
  /** The success status (default 200). */
  status?: number;
  /** The JSON body's schema, built on demand (schemas are imported from the components). */
  body?: () => z.ZodType;
  /** Query parameters, as an object schema. */
  query?: () => z.ZodObject;
  /** The success answer is `text/plain` (logs) rather than JSON. */
  text?: boolean;
}

function deploymentBody(): z.ZodType {
  return z.union([
    z.object({ modulesContent: ModulesContent }),
    z.object({ content: z.object({ modulesContent: ModulesContent }) }),
    ModulesContent,
  ]);
}

/**
 * Every operation of the management API, keyed `"METHOD /path/{param}"`. A route the app serves
 * without an entry here is listed as undocumented (and fails the OpenAPI test).
 */
export const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  "GET /v1/health": { summary: "Daemon health, version, uptime and components", tag: "system" },
  "GET /v1/openapi.json": { summary: "This OpenAPI document", tag: "system" },
  "GET /v1/logs": {
    summary: "The daemon's recent log records (JSON lines), since a Unix time",
    tag: "system",
    query: () => z.object({ since: z.string().optional() }),
  },
  "PUT /v1/deployment": {
    summary: "Apply an IoT Edge deployment manifest",
    tag: "deployment",
    body: deploymentBody,
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
    query: () => LogsQuery,
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
  "GET /v1/identities": {
    summary: "Every identity (device, modules, leaf devices), without keys",
    tag: "identities",
  },
  "POST /v1/identities": {
    summary: "Register a leaf device; answers its connection string once",
    tag: "identities",
    status: 201,
    body: () => AddDeviceRequest,
  },
  "GET /v1/identities/{deviceId}": {
    summary: "One device identity and its modules, without keys",
    tag: "identities",
  },
  "DELETE /v1/identities/{deviceId}": {
    summary: "Remove a leaf device",
    tag: "identities",
    status: 204,
  },
  "GET /v1/identities/{deviceId}/modules/{moduleId}": {
    summary: "One module identity, without keys",
    tag: "identities",
  },
  "GET /v1/certificates": {
    summary: "Certificates: subject, SANs, notAfter, days left",
    tag: "certificates",
  },
  "POST /v1/certificates/renew": {
    summary: "Renew every leaf certificate now (ca: the edge CA first)",
    tag: "certificates",
    body: () => RenewRequest,
  },
  "GET /v1/twins/{deviceId}": { summary: "A device twin", tag: "twins" },
  "PATCH /v1/twins/{deviceId}": {
    summary: "Patch a device twin's desired properties",
    tag: "twins",
    body: () => DesiredPatch,
  },
  "GET /v1/twins/{deviceId}/modules/{moduleId}": { summary: "A module twin", tag: "twins" },
  "PATCH /v1/twins/{deviceId}/modules/{moduleId}": {
    summary: "Patch a module twin's desired properties",
    tag: "twins",
    body: () => DesiredPatch,
  },
  "POST /v1/methods": {
    summary: "Invoke a direct method on a device or module",
    tag: "methods",
    body: () => InvokeRequest,
  },
  "POST /v1/c2d/{deviceId}": {
    summary: "Queue a cloud-to-device message for a leaf device",
    tag: "c2d",
    status: 202,
    body: () => C2DRequest,
  },
  "GET /v1/queues": { summary: "Endpoint queues: depth, oldest age, drops", tag: "hub" },
  "GET /v1/hub/stats": { summary: "Hub statistics: clients, queues, counters", tag: "hub" },
  "GET /v1/upstream": {
    summary: "Upstream connection state (parent, connected, backlog)",
    tag: "upstream",
  },
};

/** A hono path (`/v1/modules/:name`) in OpenAPI form (`/v1/modules/{name}`). */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/** The `"METHOD /path"` key of a route in {@linkcode OPERATIONS}. */
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

function operation(route: ApiRoute): Record<string, unknown> {
  const key = operationKey(route);
  const doc = OPERATIONS[key];
  const path = openApiPath(route.path);
  const parameters: Record<string, unknown>[] = [...path.matchAll(/\{([^}]+)\}/g)].map((
    match,
  ) => ({ name: match[1], in: "path", required: true, schema: { type: "string" } }));
  if (doc?.query) {
    const shape = jsonSchema(doc.query()) as {
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
          content: { "application/json": { schema: jsonSchema(doc.body()) } },
        },
      }
      : {}),
    responses: { [status]: success, default: ERROR_RESPONSE },
  };
}

/**
 * The OpenAPI 3.1 document of `routes` (from {@linkcode apiRoutes} of the running app).
 *
 * @example
 * ```ts
 * app.get("/v1/openapi.json", (c) => c.json(openApiDocument(apiRoutes(app))));
 * ```
 */
export function openApiDocument(routes: readonly ApiRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
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
