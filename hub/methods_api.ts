/**
 * The module-to-module direct methods API on the HTTPS listener, as `ModuleClient.invokeMethod`
 * calls it: `POST /twins/{d}[/modules/{m}]/methods`, the caller named by `x-ms-edge-moduleId`
 * and proven by the SAS token in `Authorization`. The answer is IoT Hub's `{status, payload}`;
 * a target that is not connected is HTTP 404, one that does not answer in time 504.
 */
import type { IdentityRef } from "../iothub/mod.ts";
import { Hono } from "hono";
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import type { Hub } from "./hub.ts";
import type { HubSecurity } from "./security_port.ts";

/** The body of a method invocation. */
export const MethodInvocation = lazySchema(() =>
  z.object({
    methodName: z.string({ error: "expected a string" }).min(1, {
      error: "expected a method name",
    }),
    payload: z.unknown().optional(),
    responseTimeoutInSeconds: z.number({ error: "expected a number" }).int().min(1).max(300)
      .optional(),
    connectTimeoutInSeconds: z.number({ error: "expected a number" }).int().min(0).max(300)
      .optional(),
  })
);
/** The body of a method invocation. */
export type MethodInvocation = z.infer<typeof MethodInvocation>;

function failure(status: number, message: string): Response {
  return Response.json({ message }, { status });
}

/** Builds the methods API app. */
export function createMethodsApi(hub: Hub, security: HubSecurity): Hono {
  const app = new Hono();

  async function invoke(
    request: Request,
    target: IdentityRef,
  ): Promise<Response> {
    const caller = request.headers.get("x-ms-edge-moduleId") ?? "";
    const [callerDevice, callerModule, extra] = caller.split("/");
    if (!callerDevice || !callerModule || extra !== undefined) {
      return failure(401, "Cannot invoke method: header x-ms-edge-moduleId must be device/module");
    }
    const token = request.headers.get("authorization") ?? "";
    const verdict = security.verifySasToken(token, {
      deviceId: callerDevice,
      moduleId: callerModule,
    });
    if (!verdict.ok) return failure(401, `Cannot invoke method: ${verdict.reason}`);
    let body: MethodInvocation;
    try {
      body = MethodInvocation.parse(await request.json());
    } catch (error) {
      const detail = error instanceof z.ZodError
        ? error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")
        : "body is not JSON";
      return failure(400, `Cannot invoke method: ${detail}`);
    }
    const result = await hub.invokeMethod(target, {
      methodName: body.methodName,
      payload: body.payload,
      ...(body.responseTimeoutInSeconds === undefined
        ? {}
        : { responseTimeoutInSeconds: body.responseTimeoutInSeconds }),
    });
    if (result.hubFailure) {
      const message = (result.payload as { message?: string } | null)?.message ?? "failed";
      return failure(result.status, `Cannot invoke ${body.methodName}: ${message}`);
    }
    return Response.json({ status: result.status, payload: result.payload });
  }

  app.post(
    "/twins/:deviceId/modules/:moduleId/methods",
    (c) =>
      invoke(c.req.raw, {
        deviceId: c.req.param("deviceId"),
        moduleId: c.req.param("moduleId"),
      }),
  );
  app.post(
    "/twins/:deviceId/methods",
    (c) => invoke(c.req.raw, { deviceId: c.req.param("deviceId") }),
  );
  app.notFound((c) =>
    c.json({ message: `Cannot ${c.req.method} ${c.req.path}: no such route` }, 404)
  );
  return app;
}
