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
  return new Console(runtime, sources);
}

/** The console: its history ring always, its listener when enabled. */
class Console implements ConsoleComponent {
  readonly name = "console";
  readonly api;
  readonly apiDocs = CONSOLE_API_DOCS;
  readonly history: MetricHistory;
  readonly #runtime: RuntimeContext;
  readonly #sources: ConsoleSources;
  readonly #settings: RuntimeContext["config"]["console"];
  readonly #logger: RuntimeContext["logger"];
  readonly #listen: ReturnType<typeof splitListen>;
  readonly #sessions = new ConsoleSessions();
  readonly #context: ConsoleContext;
  #closing = new AbortController();
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #boundPort = 0;
  #error: string | null = null;
  #unsubscribeTls: (() => void) | undefined;
  #app: Promise<Handler> | undefined;

  constructor(runtime: RuntimeContext, sources: ConsoleSources) {
    this.#runtime = runtime;
    this.#sources = sources;
    this.#settings = runtime.config.console;
    this.#logger = runtime.logger.child("console");
    this.#listen = splitListen(this.#settings.listen);
    this.history = new MetricHistory({ read: () => readCounters(sources) });
    const closing = () => this.#closing.signal;
    this.#context = {
      config: runtime.config,
      logger: this.#logger,
      sources,
      sessions: this.#sessions,
      history: this.history,
      tls: this.#settings.tls,
      port: () => this.#boundPort,
      get closing() {
        return closing();
      },
    };
    this.api = createConsoleApi(() => this.status(), () => this.#login());
  }

  status(): ConsoleStatus {
    const { enabled } = this.#settings;
    return { enabled, listening: this.#server !== undefined, url: this.#url(), error: this.#error };
  }

  listeners(): Record<string, number> {
    return this.#server ? { console: this.#boundPort } : {};
  }

  start(): Promise<void> {
    this.history.start();
    if (!this.#settings.enabled) return Promise.resolve();
    try {
      this.#serve();
    } catch (failure) {
      // The console is a window onto the device, not part of its work: ledge runs on without it.
      this.#error = `Cannot listen on ${this.#settings.listen}: ${(failure as Error).message}`;
      this.#logger.error("console not served", { error: failure, listen: this.#settings.listen });
      return Promise.resolve();
    }
    if (this.#settings.tls) {
      this.#unsubscribeTls = this.#sources.security.onServerTlsChange(() => {
        this.#restartForNewCertificate().catch((failure) =>
          this.#logger.error("console certificate renewal failed", { error: failure })
        );
      });
    }
    this.#logger.info("console listening", {
      url: this.#url(),
      loopbackOnly: isLoopbackHost(this.#listen.hostname),
    });
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.history.stop();
    this.#unsubscribeTls?.();
    this.#closing.abort();
    await this.#server?.shutdown();
    this.#server = undefined;
  }

  #handle(request: Request): Promise<Response> {
    // The pages load on the first request: a console nobody opens costs no memory for them.
    this.#app ??= import("./console_app.ts").then((module) =>
      module.createConsoleApp(this.#context)
    );
    return this.#app.then((fetch) => fetch(request)).catch((failure) => {
      this.#logger.error("console request failed", { error: failure });
      return new Response("the console failed; see ledge's log\n", { status: 500 });
    });
  }

  #url(): string | null {
    if (!this.#server) return null;
    const scheme = this.#settings.tls ? "https" : "http";
    const host = publicHost(this.#listen.hostname, this.#runtime.config.device.hostname);
    return `${scheme}://${host}:${this.#boundPort}`;
  }

  #serve(): void {
    const tls = this.#settings.tls ? this.#sources.security.serverTls() : undefined;
    this.#server = Deno.serve({
      hostname: this.#listen.hostname,
      port: this.#boundPort || this.#listen.port,
      onListen: () => {},
      ...(tls ? { cert: tls.certPem + tls.chainPem, key: tls.keyPem } : {}),
    }, (request) => this.#handle(request));
    this.#boundPort = this.#server.addr.port;
  }

  async #restartForNewCertificate(): Promise<void> {
    if (!this.#server) return;
    this.#closing.abort();
    await this.#server.shutdown();
    this.#closing = new AbortController();
    try {
      this.#serve();
      this.#logger.info("console serves the renewed certificate");
    } catch (failure) {
      this.#server = undefined;
      this.#error = `Cannot listen on ${this.#settings.listen}: ${(failure as Error).message}`;
      this.#logger.error("console stopped: cannot listen again after a certificate renewal", {
        error: failure,
      });
    }
  }

  #login(): { url: string; expiresAt: string } {
    if (!this.#settings.enabled) {
      throw httpError(409, "Cannot open the console: [console] enabled is false in the config");
    }
    const base = this.#url();
    if (!base) {
      throw httpError(503, `Cannot open the console: ${this.#error ?? "it is not listening"}`);
    }
    const issued = this.#sessions.issueLogin();
    return {
      url: `${base}/login?token=${issued.token}`,
      expiresAt: new Date(issued.expiresAt).toISOString(),
    };
  }
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
