/**
 * The HTTPS device API, as `azure-iot-device-http` calls it, on the hub's HTTPS listener:
 *
 * - `POST /devices/{id}/messages/events`: one message (body and `iothub-*` headers) or a batch
 *   (`application/vnd.microsoft.iothub.json`); 204 only once every message is durable.
 * - `GET /devices/{id}/messages/devicebound`: the next C2D message with its lock token as ETag
 *   (200), or 204 when none waits; `DELETE .../devicebound/{lock}` completes it, `?reject` rejects
 *   it, `POST .../devicebound/{lock}/abandon` gives it back. An unknown or expired lock is 412.
 *
 * Every request authenticates as the device in its path: a SAS token in `Authorization`, or the
 * TLS client certificate of an X.509 device. Failures count against the source's budget.
 */
import { Hono } from "hono";
import type { Logger } from "../../core/log.ts";
import { identityKey, identityLabel, type IdentityRef } from "../../iothub/mod.ts";
import type { FailureLimiter } from "../failure_limiter.ts";
import type { HeadPort } from "../head_port.ts";
import type { HubIdentity, HubSecurity } from "../security_port.ts";
import { C2dLocks, type LockOutcome } from "./c2d_locks.ts";
import { VerifiedTokens } from "./verified_tokens.ts";
import {
  BATCH_CONTENT_TYPE,
  c2dHeaders,
  HttpMessageError,
  messageFromRequest,
  messagesFromBatch,
} from "./http_message.ts";

/** Who is calling: what the listener knows of the connection. */
export interface HttpCaller {
  source: string;
  peerChain: readonly Uint8Array[];
}

/** Counters of the HTTPS device API. */
export interface HttpDeviceCounters {
  requests: number;
  authFailures: number;
  authRateLimited: number;
  c2dHandedOut: number;
}

/** Options of {@linkcode createDeviceApi}. */
export interface DeviceApiOptions {
  port: HeadPort;
  security: HubSecurity;
  limiter: FailureLimiter;
  logger: Logger;
  maxMessageBytes: number;
  /** How long a C2D message stays locked for the device that got it (IoT Hub: one minute). */
  lockSeconds?: number;
}

/** The device API: a hono app (env: the caller) plus its lock table and counters. */
export interface DeviceApi {
  readonly app: Hono<{ Bindings: HttpCaller }>;
  readonly counters: HttpDeviceCounters;
  close(): void;
}

function failure(status: number, message: string, headers: Record<string, string> = {}) {
  return Response.json({ Message: message }, { status, headers });
}

/** The HTTP answer to a refused ingest: too large 413, full queue 503 (the SDK retries). */
function ingestFailure(error: unknown): Response {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof HttpMessageError) return failure(400, message);
  if (error instanceof Error && error.name === "MessageTooLargeError") return failure(413, message);
  if (error instanceof Error && error.name === "StoreFullError") {
    return failure(503, message, { "retry-after": "5" });
  }
  return failure(500, message);
}

/** Builds the device API. */
export function createDeviceApi(options: DeviceApiOptions): DeviceApi {
  const { port, security, limiter, logger } = options;
  const locks = new C2dLocks((options.lockSeconds ?? 60) * 1000);
  const counters: HttpDeviceCounters = {
    requests: 0,
    authFailures: 0,
    authRateLimited: 0,
    c2dHandedOut: 0,
  };
  const app = new Hono<{ Bindings: HttpCaller }>();
  const verified = new VerifiedTokens({
    maxEntries: 10_000,
    isCurrent: (identity) => security.isIdentityCurrent(identity),
  });

  /** The identity of the device in the path, or the refusal. */
  function authenticate(request: Request, caller: HttpCaller | undefined, claimed: IdentityRef) {
    counters.requests++;
    const source = caller?.source ?? "unknown";
    if (limiter.blocked(source, identityKey(claimed))) {
      counters.authRateLimited++;
      return failure(401, "Cannot authenticate: too many failures from this address");
    }
    const token = request.headers.get("authorization") ?? "";
    const known = token !== "" ? verified.get(token, claimed) : undefined;
    if (known) return known;
    const verdict = token !== ""
      ? security.verifySasToken(token, claimed)
      : (caller?.peerChain.length ?? 0) > 0
      ? security.verifyClientCertificate(caller!.peerChain, claimed)
      : { ok: false as const, reason: "no SAS token in Authorization and no client certificate" };
    let reason = verdict.ok ? undefined : verdict.reason;
    if (verdict.ok && identityKey(verdict.identity) !== identityKey(claimed)) {
      reason = `the credentials are for ${identityLabel(verdict.identity)}`;
    }
    if (reason !== undefined || !verdict.ok) {
      counters.authFailures++;
      limiter.fail(source, identityKey(claimed));
      logger.warn("https device request refused", { source, device: claimed.deviceId, reason });
      return failure(401, `Cannot authenticate as ${identityLabel(claimed)}: ${reason}`);
    }
    if (token !== "") verified.add(token, verdict.identity);
    return verdict.identity as HubIdentity;
  }

  app.post("/devices/:deviceId/messages/events", async (c) => {
    const identity = authenticate(c.req.raw, c.env, { deviceId: c.req.param("deviceId") });
    if (identity instanceof Response) return identity;
    const body = new Uint8Array(await c.req.arrayBuffer());
    const telemetry = { sender: identity, maxMessageBytes: options.maxMessageBytes };
    try {
      const contentType = c.req.header("content-type") ?? "";
      const messages = contentType.toLowerCase().startsWith(BATCH_CONTENT_TYPE)
        ? messagesFromBatch(new TextDecoder().decode(body), telemetry)
        : [messageFromRequest(body, c.req.raw.headers, telemetry)];
      await Promise.all(messages.map((message) => port.ingest(identity, message)));
    } catch (error) {
      return ingestFailure(error);
    }
    return c.body(null, 204);
  });

  app.get("/devices/:deviceId/messages/devicebound", (c) => {
    const identity = authenticate(c.req.raw, c.env, { deviceId: c.req.param("deviceId") });
    if (identity instanceof Response) return identity;
    const taken = port.takeOne({ deviceId: identity.deviceId });
    if (!taken) return c.body(null, 204);
    counters.c2dHandedOut++;
    const lockToken = locks.lock(identity, taken.settle);
    const { message } = taken.queued;
    return new Response(message.body as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: c2dHeaders(message, lockToken),
    });
  });

  function settle(
    c: { req: { raw: Request; param(name: string): string }; env: HttpCaller },
    outcome: LockOutcome,
  ) {
    const identity = authenticate(c.req.raw, c.env, { deviceId: c.req.param("deviceId") });
    if (identity instanceof Response) return identity;
    const token = c.req.param("lockToken");
    if (!locks.settle(identity, token, outcome)) {
      return failure(412, `Cannot ${outcome} the message: lock ${token} is unknown or expired`);
    }
    return new Response(null, { status: 204 });
  }

  app.delete(
    "/devices/:deviceId/messages/devicebound/:lockToken",
    (c) => settle(c, c.req.query("reject") !== undefined ? "reject" : "complete"),
  );
  app.post(
    "/devices/:deviceId/messages/devicebound/:lockToken/abandon",
    (c) => settle(c, "abandon"),
  );

  return { app, counters, close: () => locks.close() };
}
