/**
 * The CLI's client of the management API (HTTP over `<state>/mgmt.sock`).
 */
import { mgmtSocketPath } from "../core/state_dir.ts";

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

/** A client bound to one state dir's management socket. */
export interface MgmtClient {
  readonly socketPath: string;
  /** Sends a request; resolves with the parsed JSON body of a 2xx answer. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Sends a request and returns the raw response (for streams such as `logs --follow`). */
  fetch(method: string, path: string, body?: unknown): Promise<Response>;
  close(): void;
}

/** Opens a client for the daemon whose state dir is `stateDir`. */
export function createMgmtClient(stateDir: string): MgmtClient {
  const socketPath = mgmtSocketPath(stateDir);
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });

  async function send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`http://ledge${path}`, {
        method,
        client,
        ...(body === undefined ? {} : {
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        }),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const hint = /permission/i.test(reason)
        ? "permission denied: run as root or a member of the ledge group"
        : "is `ledge run` running?";
      throw new MgmtError(`Cannot reach ledge at ${socketPath}: ${hint}`, 0, reason, {
        cause: error,
      });
    }
  }

  return {
    socketPath,
    fetch: send,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await send(method, path, body);
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        parsed = text;
      }
      if (!response.ok) {
        const message = typeof parsed === "object" && parsed !== null && "error" in parsed
          ? String((parsed as { error: unknown }).error)
          : `HTTP ${response.status}`;
        const detail = typeof parsed === "object" && parsed !== null && "detail" in parsed
          ? (parsed as { detail: unknown }).detail
          : undefined;
        throw new MgmtError(message, response.status, detail);
      }
      return parsed as T;
    },
    close: () => client.close(),
  };
}
