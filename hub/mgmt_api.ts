/**
 * The hub's routes on the management API (the CLI's `twin`, `invoke`, `send`):
 * `/v1/twins/:deviceId[/modules/:moduleId]` GET and PATCH (desired), `/v1/methods` POST,
 * `/v1/c2d/:deviceId` POST, `/v1/queues` GET and `/v1/hub/stats` GET.
 */
import { Hono } from "hono";
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import { type ApiDocs, httpError, jsonBody } from "../core/api.ts";
import type { Hub } from "./hub.ts";
import type { HubSecurity } from "./security_port.ts";
import { identityLabel, type IdentityRef, identityRef, TwinPatchError } from "../iothub/mod.ts";

/** `POST /v1/methods` body. */
export const InvokeRequest = lazySchema(() =>
  z.strictObject({
    deviceId: z.string().min(1),
    moduleId: z.string().min(1).optional(),
    methodName: z.string().min(1),
    payload: z.unknown().optional(),
    responseTimeoutInSeconds: z.number().int().min(1).max(300).optional(),
  })
);
/** `POST /v1/methods` body. */
export type InvokeRequest = z.infer<typeof InvokeRequest>;

/** `POST /v1/c2d/:deviceId` body: the message text (UTF-8) and its application properties. */
export const C2DRequest = lazySchema(() =>
  z.strictObject({
    body: z.string(),
    properties: z.record(z.string(), z.string()).optional(),
  })
);
/** `POST /v1/c2d/:deviceId` body. */
export type C2DRequest = z.infer<typeof C2DRequest>;

/** A desired-properties patch. */
export const DesiredPatch = lazySchema(() =>
  z.record(z.string(), z.unknown(), {
    error: "expected a JSON object of desired properties",
  })
);
/** A desired-properties patch. */
export type DesiredPatch = z.infer<typeof DesiredPatch>;

/** Applies the patch, and answers once it is durable. */
async function patchDesired(hub: Hub, target: IdentityRef, patch: DesiredPatch) {
  try {
    const desiredVersion = hub.patchDesired(target, patch);
    await hub.twinsDurable();
    return { desiredVersion };
  } catch (error) {
    if (error instanceof TwinPatchError) throw httpError(error.status, error.message);
    throw error;
  }
}

/**
 * Whether `deviceId` is a device this hub knows: registered here, or below a child edge device
 * and seen through it (it has a twin here), or connected now. IoT Hub answers 404 for others.
 */
function knowsDevice(hub: Hub, security: HubSecurity, deviceId: string): boolean {
  if (security.isIdentityCurrent({ deviceId })) return true;
  const key = deviceId.toLowerCase();
  return hub.isConnected({ deviceId }) ||
    hub.twinKeys().some((twin) => twin === key || twin.startsWith(`${key}/`));
}

async function invoke(hub: Hub, request: InvokeRequest) {
  const target = identityRef(request);
  const result = await hub.invokeMethod(target, {
    methodName: request.methodName,
    payload: request.payload ?? null,
    ...(request.responseTimeoutInSeconds === undefined
      ? {}
      : { responseTimeoutInSeconds: request.responseTimeoutInSeconds }),
  });
  if (result.hubFailure) {
    // The target never answered: an HTTP error, as IoT Hub's service API answers it.
    const message = (result.payload as { message?: string } | null)?.message ?? "failed";
    throw httpError(
      result.status,
      `Cannot invoke ${request.methodName} on ${identityLabel(target)}: ${message}`,
      { reason: result.hubFailure },
    );
  }
  return { status: result.status, payload: result.payload };
}

/** Builds the hub's management routes; `security` says which devices are registered. */
export function createHubMgmtApi(hub: () => Hub, options: { security: HubSecurity }) {
  return new Hono()
    .get("/v1/twins/:deviceId", (c) => c.json(hub().getTwin(identityRef(c.req.param()))))
    .patch(
      "/v1/twins/:deviceId",
      jsonBody(DesiredPatch),
      async (c) =>
        c.json(await patchDesired(hub(), identityRef(c.req.param()), c.req.valid("json"))),
    )
    .get(
      "/v1/twins/:deviceId/modules/:moduleId",
      (c) => c.json(hub().getTwin(identityRef(c.req.param()))),
    )
    .patch(
      "/v1/twins/:deviceId/modules/:moduleId",
      jsonBody(DesiredPatch),
      async (c) =>
        c.json(await patchDesired(hub(), identityRef(c.req.param()), c.req.valid("json"))),
    )
    .post(
      "/v1/methods",
      jsonBody(InvokeRequest),
      async (c) => c.json(await invoke(hub(), c.req.valid("json"))),
    )
    .post("/v1/c2d/:deviceId", jsonBody(C2DRequest), async (c) => {
      const request = c.req.valid("json");
      const deviceId = c.req.param("deviceId");
      if (!knowsDevice(hub(), options.security, deviceId)) {
        throw httpError(404, `Cannot send to ${deviceId}: no such device`);
      }
      await hub().sendC2D(deviceId, {
        body: new TextEncoder().encode(request.body),
        ...(request.properties ? { properties: request.properties } : {}),
      }).catch((error: Error) => {
        throw httpError(error.name === "StoreFullError" ? 503 : 500, error.message);
      });
      return c.json({ queued: true }, 202);
    })
    .get("/v1/queues", (c) => c.json(hub().stats().queues))
    .get("/v1/hub/stats", (c) => c.json(hub().stats()));
}

/** The hub's routes, as hono's typed client (`hc`) sees them. */
export type HubApi = ReturnType<typeof createHubMgmtApi>;

/** The OpenAPI documentation of the hub routes. */
export const HUB_API_DOCS: ApiDocs = {
  "GET /v1/twins/{deviceId}": { summary: "A device twin", tag: "twins" },
  "PATCH /v1/twins/{deviceId}": {
    summary: "Patch a device twin's desired properties",
    tag: "twins",
    body: DesiredPatch,
  },
  "GET /v1/twins/{deviceId}/modules/{moduleId}": { summary: "A module twin", tag: "twins" },
  "PATCH /v1/twins/{deviceId}/modules/{moduleId}": {
    summary: "Patch a module twin's desired properties",
    tag: "twins",
    body: DesiredPatch,
  },
  "POST /v1/methods": {
    summary: "Invoke a direct method on a device or module",
    tag: "methods",
    body: InvokeRequest,
  },
  "POST /v1/c2d/{deviceId}": {
    summary: "Queue a cloud-to-device message for a leaf device (404 when there is no such device)",
    tag: "c2d",
    status: 202,
    body: C2DRequest,
  },
  "GET /v1/queues": { summary: "Endpoint queues: depth, oldest age, drops", tag: "hub" },
  "GET /v1/hub/stats": { summary: "Hub statistics: clients, queues, counters", tag: "hub" },
};
