/**
 * The CLI's client of the management API (HTTP over `<state>/mgmt.sock`): hono's typed client
 * (`hc`) over each component's routes, so paths, parameters, bodies and answers are checked
 * against the handlers themselves.
 */
import { type ClientResponse, hc } from "hono/client";
import type { AgentApi } from "../agent/mod.ts";
import { mgmtSocketPath } from "../core/state_dir.ts";
import type { ConsoleApi, SystemApi, UpdateApi } from "../daemon/mod.ts";
import type { FleetApi } from "../fleet/mod.ts";
import type { HubApi } from "../hub/mod.ts";
import type { SecurityApi } from "../security/mod.ts";
import type { UpstreamApi } from "../upstream/mod.ts";

/** The daemon could not be reached, or answered with an error. */
export class MgmtError extends Error {
  override name = "MgmtError";
  /** HTTP status, or 0 when the socket could not be reached. */
  readonly status: number;
  readonly detail: unknown;
  constructor(message: string, status: number, detail?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.detail = detail;
  }
}

/** A client bound to one state dir's management socket, one typed client per area. */
export interface MgmtClient {
  readonly socketPath: string;
  readonly system: ReturnType<typeof hc<SystemApi>>;
  readonly agent: ReturnType<typeof hc<AgentApi>>;
  readonly hub: ReturnType<typeof hc<HubApi>>;
  readonly security: ReturnType<typeof hc<SecurityApi>>;
  readonly upstream: ReturnType<typeof hc<UpstreamApi>>;
  readonly console: ReturnType<typeof hc<ConsoleApi>>;
  readonly fleet: ReturnType<typeof hc<FleetApi>>;
  readonly update: ReturnType<typeof hc<UpdateApi>>;
  close(): void;
}

function unreachable(socketPath: string, error: unknown): MgmtError {
  const reason = error instanceof Error ? error.message : String(error);
  const hint = /permission/i.test(reason)
    ? "permission denied: run as root or a member of the ledge group"
    : "is `ledge run` running?";
  return new MgmtError(`Cannot reach ledge at ${socketPath}: ${hint}`, 0, reason, {
    cause: error,
  });
}

/** Opens a client for the daemon whose state dir is `stateDir`. */
export function createMgmtClient(stateDir: string): MgmtClient {
  const socketPath = mgmtSocketPath(stateDir);
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  const options = {
    fetch: (input: RequestInfo | URL, init?: RequestInit) =>
      fetch(input, { ...init, client }).catch((error) => {
        throw unreachable(socketPath, error);
      }),
  };
  const base = "http://ledge";
  return {
    socketPath,
    system: hc<SystemApi>(base, options),
    agent: hc<AgentApi>(base, options),
    hub: hc<HubApi>(base, options),
    security: hc<SecurityApi>(base, options),
    upstream: hc<UpstreamApi>(base, options),
    console: hc<ConsoleApi>(base, options),
    fleet: hc<FleetApi>(base, options),
    update: hc<UpdateApi>(base, options),
    close: () => client.close(),
  };
}

/** The parsed body of an answer: JSON, text, or nothing. */
async function bodyOf(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The error a non-2xx answer stands for: its `{error, detail}` body, or its status. */
export async function answerError(
  response: Response | ClientResponse<unknown>,
): Promise<MgmtError> {
  const parsed = await bodyOf(response as Response);
  const body = typeof parsed === "object" && parsed !== null
    ? parsed as { error?: unknown; detail?: unknown }
    : {};
  const message = "error" in body ? String(body.error) : `HTTP ${response.status}`;
  return new MgmtError(message, response.status, body.detail);
}

/**
 * The JSON body of a 2xx answer, typed as the handler returns it; a {@linkcode MgmtError} with
 * the daemon's message otherwise.
 *
 * @example
 * ```ts
 * const { modules } = await answer(client.agent.v1.modules.$get());
 * ```
 */
export async function answer<T>(call: Promise<ClientResponse<T>>): Promise<T> {
  const response = await call;
  if (!response.ok) throw await answerError(response);
  return await bodyOf(response as unknown as Response) as T;
}
