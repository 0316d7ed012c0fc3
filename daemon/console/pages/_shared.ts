/**
 * What the console's pages share: the shell with this device's name and the session's CSRF
 * token, status colours, and the notices an action leaves behind.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ConsoleContext } from "../context.ts";
import type { ConsoleEnv } from "../guard.ts";
import { type Content, type Html, notice, page, type PageOptions, type Tone } from "../html.ts";

/** A request's context in the console. */
export type ConsoleRequest = Context<ConsoleEnv>;

/** Whether this ledge has children or deployments, so the fleet page has something to show. */
export function hasChildren(context: ConsoleContext): boolean {
  const children = context.sources.security.registry.list().some((identity) =>
    identity.kind === "child-edge-device"
  );
  if (children) return true;
  try {
    return (context.sources.fleet?.().listDeployments().length ?? 0) > 0;
  } catch {
    return false;
  }
}

/** Renders a whole page of the console for `c`'s session. */
export function render(
  c: ConsoleRequest,
  context: ConsoleContext,
  options: Omit<PageOptions, "deviceId" | "csrf" | "hidden">,
  body: Content,
  status: ContentfulStatusCode = 200,
): Response {
  const hidden = hasChildren(context) || c.req.path.startsWith("/fleet") ? [] : ["/fleet" as const];
  const shell = page({
    ...options,
    deviceId: context.config.device.id,
    csrf: c.get("session").csrf,
    hidden,
  }, body);
  return c.html(shell, status);
}

/** The colour of a module's runtime status. */
export function moduleTone(status: string): Tone {
  switch (status) {
    case "running":
      return "ok";
    case "backoff":
    case "failed":
      return "error";
    case "stopped":
      return "idle";
    default:
      return "warn";
  }
}

/** What a finished action says on the page it returns to (`?done=<key>`). */
const DONE: Record<string, { tone: Tone; text: string }> = {
  restart: {
    tone: "ok",
    text: "Restart requested: the module starts again now, its back-off reset.",
  },
  start: { tone: "ok", text: "Start requested." },
  stop: {
    tone: "ok",
    text: "Stop requested: the module stays stopped until started or redeployed.",
  },
  twin: { tone: "ok", text: "Desired properties saved and sent to the module." },
  unchanged: { tone: "info", text: "Nothing changed: the document equals the current one." },
  removed: {
    tone: "ok",
    text: "Identity removed: its connections are closed and its keys refused.",
  },
  renewed: { tone: "ok", text: "Certificates renewed." },
};

/** The notice for `?done=` on this request, if any. */
export function doneNotice(c: ConsoleRequest): Html | "" {
  const done = DONE[c.req.query("done") ?? ""];
  return done ? notice(done.tone, done.text) : "";
}

/** A redirect after an action (POST -> 303 -> GET), with what was done. */
export function doneRedirect(c: ConsoleRequest, path: string, done: keyof typeof DONE): Response {
  return c.redirect(`${path}?done=${done}`, 303);
}

/** The form fields of a POST, as strings. */
export async function formFields(c: ConsoleRequest): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === "string") fields[key] = value;
  }
  return fields;
}

/** The hub, or undefined when it is not running. */
export function hubOf(context: ConsoleContext) {
  try {
    return context.sources.hub();
  } catch {
    return undefined;
  }
}
