/**
 * The start/stop contract every part of the daemon (security, hub, agent, ...) implements, so the
 * runtime can start them in order, stop them in reverse, and expose their management routes.
 */
import type { Hono } from "hono";
import type { ApiDocs } from "./api.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import type { LogRing } from "./log_ring.ts";

/** A part of the daemon with a lifetime. */
export interface Component {
  /** Short name, used in logs ("security", "hub", "agent"). */
  readonly name: string;
  /**
   * Starts the component; resolves when it is ready to serve. `signal` aborts a slow start (the
   * daemon is stopping before it finished).
   */
  start(signal: AbortSignal): Promise<void>;
  /** Stops the component and releases everything it holds; must be safe to call once started. */
  stop(): Promise<void>;
  /**
   * Routes this component adds to the management API (HTTP over `<state>/mgmt.sock`), mounted at
   * the root; use paths under `/v1/<area>/...`.
   */
  readonly api?: Hono;
  /** The OpenAPI documentation of {@linkcode api}'s routes, keyed `"METHOD /path/{param}"`. */
  readonly apiDocs?: ApiDocs;
  /**
   * The TCP ports it listens on by name ("mqtts", "https", "plain", "metrics"), as bound: a port 0
   * in the config shows here as the port the system gave. Empty before start.
   */
  listeners?(): Readonly<Record<string, number>>;
}

/** What every component is built from. */
export interface RuntimeContext {
  config: Config;
  /** Absolute state directory, created 0700 before any component starts. */
  stateDir: string;
  logger: Logger;
  /** The daemon's recent log records, served at `GET /v1/logs`. */
  logRing?: LogRing;
}
