/**
 * The console as a daemon component: the history ring, the listener, and the management routes
 * `ledge console` uses. The pages themselves are imported on the first request.
 */
import { Hono } from "hono";
import type { Component, RuntimeContext } from "../../core/component.ts";
import { isLoopbackHost, splitListen } from "../../core/listen_address.ts";
import { type ApiDocs, httpError } from "../../core/api.ts";
import type { ConsoleContext, ConsoleSources } from "./context.ts";
import { readCounters } from "./counters.ts";
import { MetricHistory } from "./history.ts";
import { ConsoleSessions } from "./sessions.ts";

/** What `GET /v1/console` answers. */
export interface ConsoleStatus {
  enabled: boolean;
  listening: boolean;
  /** The console's address, once listening. */
  url: string | null;
  /** Why it is not listening, when it should be. */
  error: string | null;
}

/** The console component. */
export interface ConsoleComponent extends Component {
  status(): ConsoleStatus;
  /** Bound ports by name (`console`), once listening. */
  listeners(): Record<string, number>;
  readonly history: MetricHistory;
}

type Handler = (request: Request) => Promise<Response>;

/** The address a browser uses: a wildcard bind is reached by the device's host name. */
function publicHost(hostname: string, deviceHostname: string): string {
  if (hostname === "0.0.0.0" || hostname === "::" || hostname === "") return deviceHostname;
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

/** Creates the console component; it listens only when `[console] enabled`. */
export function createConsoleComponent(
  runtime: RuntimeContext,
  sources: ConsoleSources,
): ConsoleComponent {
  const settings = runtime.config.console;
  const logger = runtime.logger.child("console");
  const listen = splitListen(settings.listen);
  const history = new MetricHistory({ read: () => readCounters(sources) });
  const sessions = new ConsoleSessions();
  let closing = new AbortController();
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  let boundPort = 0;
  let error: string | null = null;
  let unsubscribeTls: (() => void) | undefined;
  let app: Promise<Handler> | undefined;

  const context: ConsoleContext = {
    config: runtime.config,
    logger,
    sources,
    sessions,
    history,
    tls: settings.tls,
    port: () => boundPort,
    get closing() {
      return closing.signal;
    },
  };

  function handle(request: Request): Promise<Response> {
    // The pages load on the first request: a console nobody opens costs no memory for them.
    app ??= import("./console_app.ts").then((module) => module.createConsoleApp(context));
    return app.then((fetch) => fetch(request)).catch((failure) => {
      logger.error("console request failed", { error: failure });
      return new Response("the console failed; see ledge's log\n", { status: 500 });
    });
  }

  function url(): string | null {
    if (!server) return null;
    const scheme = settings.tls ? "https" : "http";
    return `${scheme}://${
      publicHost(listen.hostname, runtime.config.device.hostname)
    }:${boundPort}`;
  }

  function serve(): void {
    const tls = settings.tls ? sources.security.serverTls() : undefined;
    server = Deno.serve({
      hostname: listen.hostname,
      port: boundPort || listen.port,
      onListen: () => {},
      ...(tls ? { cert: tls.certPem + tls.chainPem, key: tls.keyPem } : {}),
    }, handle);
    boundPort = server.addr.port;
  }

  async function restartForNewCertificate(): Promise<void> {
    if (!server) return;
    closing.abort();
    await server.shutdown();
    closing = new AbortController();
    try {
      serve();
      logger.info("console serves the renewed certificate");
    } catch (failure) {
      server = undefined;
      error = `Cannot listen on ${settings.listen}: ${(failure as Error).message}`;
      logger.error("console stopped: cannot listen again after a certificate renewal", {
        error: failure,
      });
    }
  }

  function login() {
    if (!settings.enabled) {
      throw httpError(409, "Cannot open the console: [console] enabled is false in the config");
    }
    const base = url();
    if (!base) {
      throw httpError(503, `Cannot open the console: ${error ?? "it is not listening"}`);
    }
    const issued = sessions.issueLogin();
    return {
      url: `${base}/login?token=${issued.token}`,
      expiresAt: new Date(issued.expiresAt).toISOString(),
    };
  }

  function status(): ConsoleStatus {
    return { enabled: settings.enabled, listening: server !== undefined, url: url(), error };
  }

  return {
    name: "console",
    api: createConsoleApi(status, login),
    apiDocs: CONSOLE_API_DOCS,
    history,
    status,
    listeners: () => (server ? { console: boundPort } : {}),
    start() {
      history.start();
      if (!settings.enabled) return Promise.resolve();
      try {
        serve();
      } catch (failure) {
        // The console is a window onto the device, not part of its work: ledge runs on without it.
        error = `Cannot listen on ${settings.listen}: ${(failure as Error).message}`;
        logger.error("console not served", { error: failure, listen: settings.listen });
        return Promise.resolve();
      }
      if (settings.tls) {
        unsubscribeTls = sources.security.onServerTlsChange(() => {
          restartForNewCertificate().catch((failure) =>
            logger.error("console certificate renewal failed", { error: failure })
          );
        });
      }
      logger.info("console listening", {
        url: url(),
        loopbackOnly: isLoopbackHost(listen.hostname),
      });
      return Promise.resolve();
    },
    async stop() {
      history.stop();
      unsubscribeTls?.();
      closing.abort();
      await server?.shutdown();
      server = undefined;
    },
  };
}

/** The console's management routes, for the OpenAPI document. */
export const CONSOLE_API_DOCS: ApiDocs = {
  "GET /v1/console": {
    summary: "Whether the web console is enabled and listening, and its address",
    tag: "console",
  },
  "POST /v1/console/login": {
    summary: "A one-time login link to the web console (valid 5 minutes)",
    tag: "console",
  },
};

/** The console's management routes: its state, and a one-time login link. */
export function createConsoleApi(
  status: () => ConsoleStatus,
  login: () => { url: string; expiresAt: string },
) {
  return new Hono()
    .get("/v1/console", (c) => c.json(status()))
    .post("/v1/console/login", (c) => c.json(login()));
}

/** The console's routes, as hono's typed client (`hc`) sees them. */
export type ConsoleApi = ReturnType<typeof createConsoleApi>;
