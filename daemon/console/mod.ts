/**
 * The local web console: the device (and, at a parent, its fleet) at a glance - modules, message
 * flow, queues, logs, twins, identities and certificates - served by the daemon on
 * `[console] listen` (default 127.0.0.1:9601).
 *
 * - **Signing in.** `ledge console` asks the management socket (`POST /v1/console/login`) for a
 *   one-time link valid 5 minutes: only who can use the CLI gets a session. The session is an
 *   HttpOnly, SameSite=Strict cookie (Secure under TLS); every action also carries the session's
 *   CSRF token and, when the browser sends one, a same-origin `Origin`.
 * - **Beyond loopback** only with `[console] tls = true` (the hub's server certificate from
 *   ledge's CA, re-served when it renews); the config refuses it otherwise.
 * - **Costs nothing when nobody looks.** What is always loaded is the listener, the session
 *   store and a ring of 360 samples taken every 10 s from counters the hub keeps anyway; the
 *   pages, htmx and the stylesheet are imported on the first request. Nothing runs per message.
 *
 * @example
 * ```ts
 * const console = createConsoleComponent(context, { agent, hub: () => hub.hub, security, upstream });
 * await console.start(signal);
 * console.status().url; // "http://127.0.0.1:9601"
 * ```
 *
 * @module
 */
export {
  type ConsoleApi,
  type ConsoleComponent,
  type ConsoleStatus,
  createConsoleComponent,
} from "./console_component.ts";
export type { ConsoleCheck, ConsoleSources } from "./context.ts";
