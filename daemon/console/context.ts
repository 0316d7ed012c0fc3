/**
 * What the console reads and acts on, and what its lazily loaded pages share with the part of it
 * that is always loaded (types only: importing this file loads nothing).
 */
import type { AgentService } from "../../agent/mod.ts";
import type { Config } from "../../core/config.ts";
import type { Logger } from "../../core/log.ts";
import type { FleetService } from "../../fleet/mod.ts";
import type { Hub } from "../../hub/mod.ts";
import type { SecurityManagerControl } from "../../security/mod.ts";
import type { Upstream } from "../../upstream/mod.ts";
import type { MetricHistory } from "./history.ts";
import type { ConsoleSessions } from "./sessions.ts";

/** One line of `ledge check`, as the console shows it (ops/checks' CheckResult fits). */
export interface ConsoleCheck {
  id: string;
  title: string;
  status: "ok" | "warning" | "error";
  message: string;
  fix?: string | undefined;
}

/**
 * The parts of the daemon the console reads, through the same functions the management API
 * uses. The composition root fills it; `checks` comes from above the daemon (ops/), so it is a
 * hook rather than an import.
 */
export interface ConsoleSources {
  agent: AgentService;
  /** The running hub; throws before it started. */
  hub: () => Hub;
  security: SecurityManagerControl;
  upstream: Upstream;
  /** The fleet of this parent; throws before it started. */
  fleet?: (() => FleetService) | undefined;
  /** Runs `ledge check`'s checks; absent where nobody provided them (tests). */
  checks?: (() => Promise<ConsoleCheck[]>) | undefined;
}

/** What the console's pages share. */
export interface ConsoleContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly sources: ConsoleSources;
  readonly sessions: ConsoleSessions;
  readonly history: MetricHistory;
  /** Whether the console is served over HTTPS (cookies are then Secure). */
  readonly tls: boolean;
  /** The port it listens on (Host and Origin headers must name it). */
  readonly port: () => number;
  /** Aborted when the console stops: ends log streams so the listener can close. */
  readonly closing: AbortSignal;
}
