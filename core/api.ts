/**
 * What a component needs to serve management routes: an error that answers with a status and a
 * JSON `{error, detail}` body (hono's own HTTPException, with the detail as its cause), and the
 * documentation each component exports beside its routes, which the daemon merges into the
 * OpenAPI document.
 */
import type { Env, Hono, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { Logger } from "./log.ts";

/**
 * An error a route throws to answer `status` with `{error: message, detail}`.
 *
 * @example
 * ```ts
 * throw httpError(404, `Cannot find module ${name}`);
 * ```
 */
export function httpError(status: number, message: string, detail?: unknown): HTTPException {
  return new HTTPException(status as ContentfulStatusCode, {
    message,
    ...(detail === undefined ? {} : { cause: detail }),
  });
}

/**
 * Middleware that reads the request body as JSON (an empty body is `{}`) and parses it with
 * `schema`; the handler reads the result with `c.req.valid("json")`, and hono's typed client
 * (`hc`) knows the body's type. Malformed JSON is a 400 saying so; a zod error a 400 naming each
 * invalid field.
 *
 * @example
 * ```ts
 * new Hono().post("/v1/methods", jsonBody(InvokeRequest), (c) => c.json(c.req.valid("json")));
 * ```
 */
export function jsonBody<T extends z.ZodType>(
  schema: T,
  options: { what?: string } = {},
): MiddlewareHandler<Env, string, { in: { json: z.input<T> }; out: { json: z.output<T> } }> {
  return async (c, next) => {
    const text = await c.req.text();
    let parsed: unknown = {};
    if (text.trim() !== "") {
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw httpError(
          400,
          `Cannot read ${options.what ?? "the request body"}: invalid JSON (${
            (error as Error).message
          })`,
        );
      }
    }
    c.req.addValidatedData("json", schema.parse(parsed) as object);
    await next();
  };
}

/**
 * Middleware that parses the query string with `schema` (each key's last value); the handler
 * reads the result with `c.req.valid("query")`, and hono's typed client knows the query's type.
 */
export function queryOf<T extends z.ZodType>(
  schema: T,
): MiddlewareHandler<Env, string, { in: { query: z.input<T> }; out: { query: z.output<T> } }> {
  return async (c, next) => {
    c.req.addValidatedData("query", schema.parse(c.req.query()) as object);
    await next();
  };
}

/** What the OpenAPI document says about one operation. */
export interface ApiOperationDoc {
  summary: string;
  /** The area: modules, deployment, identities, certificates, twins, methods, c2d, hub, ... */
  tag: string;
  /** The success status (default 200). */
  status?: number;
  /** The JSON body's schema: the one the handler parses with. */
  body?: z.ZodType;
  /** Query parameters, as an object schema. */
  query?: z.ZodObject;
  /** The success answer is `text/plain` (logs) rather than JSON. */
  text?: boolean;
}

/** Operations keyed `"METHOD /path/{param}"`, as a component documents its routes. */
export type ApiDocs = Readonly<Record<string, ApiOperationDoc>>;

/**
 * Makes `app` answer every error as JSON `{error, detail}`: an unknown route 404, an
 * {@linkcode httpError} its status, a zod error 400 naming each invalid field, anything else 500
 * (logged).
 */
export function answerErrorsAsJson(app: Hono, logger: Logger): Hono {
  app.notFound((c) =>
    c.json({ error: `Cannot ${c.req.method} ${c.req.path}: no such route`, detail: null }, 404)
  );
  app.onError((error, c) => {
    if (error instanceof z.ZodError) {
      const detail = error.issues.map((issue) => ({
        path: issue.path.join("."),
        message: issue.message,
      }));
      return c.json({ error: "Invalid request body", detail }, 400);
    }
    if (error instanceof HTTPException) {
      return c.json({ error: error.message, detail: error.cause ?? null }, error.status);
    }
    logger.error("management request failed", { path: c.req.path, error });
    return c.json(
      { error: error instanceof Error ? error.message : String(error), detail: null },
      500,
    );
  });
  return app;
}
