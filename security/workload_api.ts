/**
 * The IoT Edge workload API for one module, as aziot-edged serves it: sign, identity and server
 * certificates, trust bundle. It is served on that module's own socket, so the socket is the
 * caller: a request naming another module, or a stale generation id, is refused with 403.
 */
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import type { Identity } from "./identity.ts";
import { hmacSha256Base64 } from "../iothub/mod.ts";
import { ServerNameNotAllowedError } from "./server_names.ts";

/** api-version values aziot-edged accepts, oldest first. */
export const WORKLOAD_API_VERSIONS = [
  "2018-06-28",
  "2019-01-30",
  "2019-10-22",
  "2019-11-05",
  "2020-07-07",
  "2020-10-10",
  "2021-12-07",
  "2022-08-03",
] as const;

/** Concurrent requests one module's socket serves; more get 429. */
export const MAX_CONCURRENT_REQUESTS = 16;

/** A certificate and key issued to a module. */
export interface IssuedCredential {
  /** PEM chain, leaf first. */
  certificatePem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  notAfter: Date;
}

/** What the API needs from the security manager, for the module the socket belongs to. */
export interface WorkloadBackend {
  /** The module this socket belongs to. */
  readonly moduleId: string;
  /** Its current identity (undefined once removed). */
  identity(): Identity | undefined;
  trustBundlePem(): string;
  now(): Date;
  issueIdentityCertificate(options: { expiration?: Date }): Promise<IssuedCredential>;
  issueServerCertificate(
    options: { commonName: string; expiration?: Date },
  ): Promise<IssuedCredential>;
}

const SignRequest = lazySchema(() =>
  z.object({
    keyId: z.enum(["primary", "secondary"], { error: 'expected "primary" or "secondary"' }),
    algo: z.literal("HMACSHA256", { error: 'expected "HMACSHA256"' }),
    data: z.string({ error: "expected a base64 string" }).regex(/^[A-Za-z0-9+/]*={0,2}$/, {
      error: "expected a base64 string",
    }),
  })
);

const expiration = lazySchema(() =>
  z.string({ error: "expected an RFC 3339 time" }).refine(
    (value) => !Number.isNaN(Date.parse(value)),
    { error: "expected an RFC 3339 time" },
  ).optional()
);

const IdentityCertificateRequest = lazySchema(() => z.object({ expiration }));
const ServerCertificateRequest = lazySchema(() =>
  z.object({
    commonName: z.string({ error: "expected a string" }).min(1, {
      error: "expected a non-empty string",
    })
      .max(64, { error: "expected at most 64 characters" }),
    expiration,
  })
);

class WorkloadError extends Error {
  constructor(readonly status: 400 | 403 | 404 | 429, message: string) {
    super(message);
  }
}

async function readBody<T extends z.ZodType>(c: Context, schema: T, action: string) {
  let raw: unknown;
  try {
    const text = await c.req.text();
    raw = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new WorkloadError(400, `Cannot ${action}: the body is not valid JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WorkloadError(
      400,
      `Cannot ${action}: ${issue.path.join(".") || "body"}: ${issue.message}`,
    );
  }
  return parsed.data as z.infer<T>;
}

function expirationDate(value: string | undefined, now: Date): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (at.getTime() <= now.getTime()) {
    throw new WorkloadError(400, `Cannot issue a certificate: expiration ${value} is in the past`);
  }
  return at;
}

function credentialResponse(credential: IssuedCredential) {
  return {
    privateKey: { type: "key", bytes: credential.privateKeyPem },
    certificate: credential.certificatePem,
    expiration: credential.notAfter.toISOString(),
  };
}

/** One module's socket as its requests see it (Hono's `env`): its backend, its requests in flight. */
export interface WorkloadSocket {
  readonly backend: WorkloadBackend;
  active: number;
}

let sharedApp: Hono<{ Bindings: WorkloadSocket }> | undefined;

/**
 * The workload API app: one for every module's socket, each request carrying its socket as
 * `env` (an app per module, with the router it builds at its first request, held ~40-110 KB of
 * RSS per module).
 */
function workloadApp(): Hono<{ Bindings: WorkloadSocket }> {
  if (sharedApp) return sharedApp;
  const app = new Hono<{ Bindings: WorkloadSocket }>();
  app.use("*", admission);
  app.post("/modules/:id/genid/:genid/sign", (c) => sign(c, c.env.backend));
  app.post("/modules/:id/certificate/identity", (c) => issueIdentityCertificate(c, c.env.backend));
  app.post(
    "/modules/:id/genid/:genid/certificate/server",
    (c) => issueServerCertificate(c, c.env.backend),
  );
  app.get("/trust-bundle", (c) => c.json({ certificate: c.env.backend.trustBundlePem() }));
  app.notFound((c) =>
    c.json({ message: `Cannot ${c.req.method} ${c.req.path}: no such workload API route` }, 404)
  );
  app.onError(workloadErrorAnswer);
  return sharedApp = app;
}

/** The request handler of one module's workload socket. */
export function workloadHandler(backend: WorkloadBackend): (request: Request) => Promise<Response> {
  const socket: WorkloadSocket = { backend, active: 0 };
  const app = workloadApp();
  return async (request) => await app.fetch(request, socket);
}

/** Checks the api-version and bounds the requests one socket serves at once. */
const admission: MiddlewareHandler<{ Bindings: WorkloadSocket }> = async (c, next) => {
  const version = c.req.query("api-version");
  if (!version) throw new WorkloadError(400, "Cannot serve the request: api-version is missing");
  if (!(WORKLOAD_API_VERSIONS as readonly string[]).includes(version)) {
    throw new WorkloadError(
      400,
      `Cannot serve the request: api-version "${version}" is not supported (supported: ${
        WORKLOAD_API_VERSIONS.join(", ")
      })`,
    );
  }
  const socket = c.env;
  if (socket.active >= MAX_CONCURRENT_REQUESTS) {
    c.header("retry-after", "1");
    throw new WorkloadError(
      429,
      `Cannot serve the request: more than ${MAX_CONCURRENT_REQUESTS} requests at once`,
    );
  }
  socket.active++;
  try {
    await next();
  } finally {
    socket.active--;
  }
};

/** The identity of the module in the path, which must be this socket's (and current). */
function caller(
  c: Context,
  backend: WorkloadBackend,
  options: { checkGeneration: boolean },
): Identity {
  const moduleId = c.req.param("id") ?? "";
  if (moduleId.toLowerCase() !== backend.moduleId.toLowerCase()) {
    throw new WorkloadError(
      403,
      `Cannot serve module "${moduleId}": this socket belongs to module "${backend.moduleId}"`,
    );
  }
  const identity = backend.identity();
  if (!identity) {
    throw new WorkloadError(403, `Cannot serve module "${moduleId}": it has no identity`);
  }
  const generationId = c.req.param("genid");
  if (options.checkGeneration && generationId !== identity.generationId) {
    throw new WorkloadError(
      403,
      `Cannot serve module "${moduleId}": generation id "${generationId}" is stale`,
    );
  }
  return identity;
}

async function sign(c: Context, backend: WorkloadBackend): Promise<Response> {
  const identity = caller(c, backend, { checkGeneration: true });
  const request = await readBody(c, SignRequest, "sign");
  if (identity.auth.type !== "sas") {
    throw new WorkloadError(400, `Cannot sign: module "${backend.moduleId}" has no SAS keys`);
  }
  const key = request.keyId === "primary" ? identity.auth.primaryKey : identity.auth.secondaryKey;
  const data = Uint8Array.from(atob(request.data), (ch) => ch.charCodeAt(0));
  return c.json({ digest: hmacSha256Base64(key, data) });
}

async function issueIdentityCertificate(c: Context, backend: WorkloadBackend): Promise<Response> {
  caller(c, backend, { checkGeneration: false });
  const request = await readBody(c, IdentityCertificateRequest, "issue an identity certificate");
  const expiration = expirationDate(request.expiration, backend.now());
  const credential = await backend.issueIdentityCertificate(expiration ? { expiration } : {});
  return c.json(credentialResponse(credential), 201);
}

async function issueServerCertificate(c: Context, backend: WorkloadBackend): Promise<Response> {
  caller(c, backend, { checkGeneration: true });
  const request = await readBody(c, ServerCertificateRequest, "issue a server certificate");
  const expiration = expirationDate(request.expiration, backend.now());
  const credential = await backend.issueServerCertificate({
    commonName: request.commonName,
    ...(expiration ? { expiration } : {}),
  });
  return c.json(credentialResponse(credential), 201);
}

/** The workload API's error answers: IoT Edge's `{message}` with the status each error means. */
function workloadErrorAnswer(error: Error, c: Context): Response {
  if (error instanceof WorkloadError) return c.json({ message: error.message }, error.status);
  if (error instanceof ServerNameNotAllowedError) return c.json({ message: error.message }, 403);
  if (error instanceof RangeError || error instanceof TypeError) {
    return c.json({ message: error.message }, 400);
  }
  return c.json({ message: `Cannot serve the request: ${error.message}` }, 500);
}
