/**
 * HTTP to the Docker Engine API v1.41 over a unix socket (`fetch` with a unix-transport
 * `Deno.createHttpClient`): every request names the API version, errors become
 * {@linkcode EngineUnavailableError} (socket missing or refusing) or {@linkcode EngineError}
 * (the engine's own message), and JSON answers are parsed with a schema.
 */
import type { z } from "zod";
import { ErrorBody } from "./docker_schemas.ts";
import { EngineError, EngineUnavailableError } from "./driver.ts";

/** The API version every request names. */
export const DOCKER_API_VERSION = "1.41";

/** Options of one request. */
export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Statuses besides 2xx that are not errors (e.g. 304, 404). */
  accept?: number[];
}

/** A connection to one engine socket. */
export class DockerClient {
  readonly socketPath: string;
  readonly #client: Deno.HttpClient;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
    this.#client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  }

  /**
   * Sends one request; `what` completes "Cannot ..." in errors.
   *
   * @returns the response (2xx or accepted); its body is the caller's to read or cancel.
   */
  async call(method: string, path: string, what: string, opts: CallOptions = {}) {
    const url = new URL(`http://engine/v${DOCKER_API_VERSION}${path}`);
    for (const [key, value] of Object.entries(opts.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        client: this.#client,
        ...(opts.signal ? { signal: opts.signal } : {}),
        headers: {
          ...(opts.body === undefined ? {} : { "content-type": "application/json" }),
          ...opts.headers,
        },
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      });
    } catch (error) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new EngineUnavailableError(
        `Cannot ${what}: the engine at ${this.socketPath} is unreachable (${reason})`,
        { cause: error },
      );
    }
    if (response.ok || opts.accept?.includes(response.status)) return response;
    throw new EngineError(`Cannot ${what}: ${await errorMessage(response)}`, response.status);
  }

  /**
   * Sends one request and parses its JSON answer with `schema`.
   *
   * @returns undefined for 404, 304 and 204 answers (when accepted).
   */
  async json<T extends z.ZodType>(
    schema: T,
    method: string,
    path: string,
    what: string,
    opts: CallOptions = {},
  ): Promise<z.infer<T> | undefined> {
    const response = await this.call(method, path, what, opts);
    if (response.status === 404 || response.status === 304 || response.status === 204) {
      await response.body?.cancel();
      return undefined;
    }
    const parsed = schema.safeParse(await response.json());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new EngineError(
        `Cannot ${what}: unexpected answer from the engine (${
          issue?.path.join(".")
        }: ${issue?.message})`,
        response.status,
      );
    }
    return parsed.data;
  }

  /** Sends one request whose answer has nothing to read. */
  async send(method: string, path: string, what: string, opts: CallOptions = {}): Promise<void> {
    const response = await this.call(method, path, what, opts);
    await response.body?.cancel();
  }

  /** Releases the connections. */
  close(): void {
    this.#client.close();
  }
}

async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    return ErrorBody.parse(JSON.parse(text)).message;
  } catch {
    return text.trim() || `HTTP ${response.status}`;
  }
}
