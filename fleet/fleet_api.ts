/**
 * The fleet's routes on the management API (the CLI's `twin --tags`, `query`, `deployment`,
 * `enrollment`; the console reads the same):
 *
 * - `GET /v1/fleet/devices/:id` a device twin as IoT Hub shows it (tags, properties,
 *   connectionState, capabilities, configurations); `PATCH /v1/fleet/devices/:id/tags` merges
 *   a tags patch (null deletes a key);
 * - `POST /v1/fleet/query` runs an IoT Hub query, one page at a time;
 * - `/v1/fleet/deployments[/:id]` GET, POST, PATCH, DELETE: automatic and layered deployments;
 * - `/v1/fleet/enrollments[/:id]` GET, POST, DELETE: enrollment groups.
 *
 * Errors are `{error, detail}`: a query, target condition or metric that does not parse is a 400
 * whose detail has `line` and `column`; invalid deployment content a 400 whose detail lists
 * `issues` with JSON paths.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import { type ApiDocs, jsonBody } from "../core/api.ts";
import { DeploymentRequest, DeploymentUpdate } from "./deployment_config.ts";
import { EnrollmentRequest } from "./enrollment_store.ts";
import type { FleetService } from "./fleet_service.ts";
import { MAX_PAGE_SIZE } from "./query_run.ts";

/** `POST /v1/fleet/query` body. */
export const QueryRequest = lazySchema(() =>
  z.strictObject({
    query: z.string({ error: "expected the query text" }).min(1, { error: "expected a query" }),
    pageSize: z.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
    continuationToken: z.string().optional(),
  })
);
/** `POST /v1/fleet/query` body. */
export type QueryRequest = z.infer<typeof QueryRequest>;

/** `PATCH /v1/fleet/devices/:id/tags` body: a JSON merge patch of the tags. */
export const TagsPatch = lazySchema(() =>
  z.record(z.string(), z.unknown(), {
    error: "expected a JSON object of tags",
  })
);

/** Builds the fleet's routes over `service` (a function: the service exists once started). */
export function createFleetApi(service: () => FleetService) {
  return new Hono()
    .get("/v1/fleet/devices/:id", (c) => c.json(service().device(c.req.param("id"))))
    .patch(
      "/v1/fleet/devices/:id/tags",
      jsonBody(TagsPatch, { what: "the tags patch" }),
      async (c) => c.json(await service().patchTags(c.req.param("id"), c.req.valid("json"))),
    )
    .post("/v1/fleet/query", jsonBody(QueryRequest, { what: "the query" }), (c) => {
      const { query, pageSize, continuationToken } = c.req.valid("json");
      return c.json(
        service().query(query, {
          ...(pageSize === undefined ? {} : { pageSize }),
          ...(continuationToken === undefined ? {} : { continuationToken }),
        }),
      );
    })
    .get("/v1/fleet/deployments", (c) => c.json(service().listDeployments()))
    .post(
      "/v1/fleet/deployments",
      jsonBody(DeploymentRequest, { what: "the deployment" }),
      async (c) => c.json(await service().createDeployment(c.req.valid("json")), 201),
    )
    .get("/v1/fleet/deployments/:id", (c) => c.json(service().showDeployment(c.req.param("id"))))
    .patch(
      "/v1/fleet/deployments/:id",
      jsonBody(DeploymentUpdate, { what: "the deployment update" }),
      async (c) => c.json(await service().updateDeployment(c.req.param("id"), c.req.valid("json"))),
    )
    .delete("/v1/fleet/deployments/:id", async (c) => {
      await service().deleteDeployment(c.req.param("id"));
      return c.json({ deleted: c.req.param("id") });
    })
    .get("/v1/fleet/enrollments", (c) => c.json(service().listEnrollments()))
    .post(
      "/v1/fleet/enrollments",
      jsonBody(EnrollmentRequest, { what: "the enrollment group" }),
      async (c) => c.json(await service().createEnrollment(c.req.valid("json")), 201),
    )
    .get("/v1/fleet/enrollments/:id", (c) => c.json(service().showEnrollment(c.req.param("id"))))
    .delete("/v1/fleet/enrollments/:id", async (c) => {
      await service().deleteEnrollment(c.req.param("id"));
      return c.json({ deleted: c.req.param("id") });
    });
}

/** The fleet's routes, for hono's typed client (`client.fleet`). */
export type FleetApi = ReturnType<typeof createFleetApi>;

/** What the OpenAPI document says about the fleet's routes. */
export const FLEET_API_DOCS: ApiDocs = {
  "GET /v1/fleet/devices/{id}": {
    summary:
      "A device twin as IoT Hub shows it: tags, properties, connectionState, capabilities, configurations",
    tag: "fleet",
  },
  "PATCH /v1/fleet/devices/{id}/tags": {
    summary: "Merge a patch into a device's tags (null deletes a key); answers the device twin",
    tag: "fleet",
    body: TagsPatch,
  },
  "POST /v1/fleet/query": {
    summary:
      "Run an IoT Hub query over the device or module twins: one page and a continuationToken (null when done)",
    tag: "fleet",
    body: QueryRequest,
  },
  "GET /v1/fleet/deployments": {
    summary: "Automatic deployments with their system metric counts",
    tag: "fleet",
  },
  "POST /v1/fleet/deployments": {
    summary:
      "Create an automatic or layered deployment (az iot edge deployment create's JSON, plus layered and rollout)",
    tag: "fleet",
    status: 201,
    body: DeploymentRequest,
  },
  "GET /v1/fleet/deployments/{id}": {
    summary:
      "A deployment: system and custom metrics with device ids, rollout, each targeted device's outcome",
    tag: "fleet",
  },
  "PATCH /v1/fleet/deployments/{id}": {
    summary: "Change a deployment's target condition, priority, labels, metrics or content",
    tag: "fleet",
    body: DeploymentUpdate,
  },
  "DELETE /v1/fleet/deployments/{id}": {
    summary: "Delete a deployment: devices take their next one, or keep what they run",
    tag: "fleet",
  },
  "GET /v1/fleet/enrollments": { summary: "Enrollment groups (keys left out)", tag: "fleet" },
  "POST /v1/fleet/enrollments": {
    summary: "Create an enrollment group; the answer holds its keys",
    tag: "fleet",
    status: 201,
    body: EnrollmentRequest,
  },
  "GET /v1/fleet/enrollments/{id}": { summary: "An enrollment group with its keys", tag: "fleet" },
  "DELETE /v1/fleet/enrollments/{id}": {
    summary: "Delete an enrollment group: new registrations are refused, registered devices stay",
    tag: "fleet",
  },
};
