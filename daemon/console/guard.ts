/**
 * The console's doors: response headers that confine the pages, the Host check (no DNS
 * rebinding onto a loopback console), signing in with a one-time link, the session cookie, and
 * the CSRF token every action must carry.
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { ConsoleContext } from "./context.ts";
import { html, page } from "./html.ts";
import { type ConsoleSession, csrfMatches, SESSION_MAX_AGE_MS } from "./sessions.ts";

/** The variables the console's handlers see. */
export type ConsoleEnv = { Variables: { session: ConsoleSession } };
/** The console's hono app. */
export type ConsoleApp = Hono<ConsoleEnv>;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** The session cookie's name; `__Host-` binds it to this origin under TLS. */
export function cookieName(tls: boolean): string {
  return tls ? "__Host-ledge_console" : "ledge_console";
}

/** Headers on every answer: no framing, no sniffing, no caching of pages, no referrer outside. */
export function securityHeaders(context: ConsoleContext): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    headers.set("Content-Security-Policy", CSP);
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("X-Frame-Options", "DENY");
    // Not "no-referrer": under it browsers send `Origin: null` even on same-origin form posts.
    headers.set("Referrer-Policy", "same-origin");
    headers.set("Cross-Origin-Opener-Policy", "same-origin");
    headers.set("Cross-Origin-Resource-Policy", "same-origin");
    if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
    if (context.tls) headers.set("Strict-Transport-Security", "max-age=31536000");
  };
}

/**
 * Refuses a Host the console does not answer to. Over plain HTTP it listens on loopback only,
 * so the Host must be a loopback name with its port: a page that rebinds its own name to
 * 127.0.0.1 gets nothing. Under TLS the certificate already ties the name.
 */
export function hostCheck(context: ConsoleContext): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    if (!context.tls) {
      const host = (c.req.header("host") ?? new URL(c.req.url).host).toLowerCase();
      const at = host.lastIndexOf(":");
      const name = host.slice(0, at);
      const loopback = name === "localhost" || name === "[::1]" ||
        /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
      if (!loopback || host.slice(at + 1) !== String(context.port())) {
        return c.text(
          `Cannot serve host "${host}": open the console at 127.0.0.1:${context.port()}\n`,
          421,
        );
      }
    }
    await next();
  };
}

function signedOut(c: Context<ConsoleEnv>, status: 401 | 403, reason: string) {
  if (c.req.header("accept")?.includes("text/html")) {
    return c.html(
      html`
        <!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8">
            <title>ledge console</title>
            <link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
            <link rel="stylesheet" href="/assets/console.css">
          </head>
          <body class="gate">
            <main>
              <h1>ledge console</h1>
              <p>${reason}</p>
              <p>Run <code>ledge console</code> on the device for a one-time login link.</p>
            </main>
          </body>
        </html>
      `,
      status,
    );
  }
  return c.json({ error: reason }, status);
}

/** `GET /login?token=...`: spends the link, sets the session cookie, and goes to the overview. */
export function loginRoute(app: ConsoleApp, context: ConsoleContext): void {
  app.get("/login", (c) => {
    const token = c.req.query("token") ?? "";
    const redeemed = context.sessions.redeem(token);
    if (!redeemed) {
      context.logger.warn("console login refused: unknown, used or expired link");
      return signedOut(c, 401, "This login link is unknown, used or expired.");
    }
    setCookie(c, cookieName(context.tls), redeemed.cookie, {
      httpOnly: true,
      sameSite: "Strict",
      secure: context.tls,
      path: "/",
      maxAge: Math.floor(SESSION_MAX_AGE_MS / 1000),
    });
    context.logger.info("console session opened");
    // The token leaves the address bar (and the history) at once.
    return c.redirect("/", 303);
  });
}

/** Every route after this needs a session; every action also its CSRF token and origin. */
export function requireSession(context: ConsoleContext): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const session = context.sessions.session(getCookie(c, cookieName(context.tls)));
    if (!session) return signedOut(c, 401, "You are not signed in (or your session ended).");
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const origin = c.req.header("origin");
      if (origin !== undefined && origin !== new URL(c.req.url).origin) {
        return signedOut(c, 403, `Refused: a request from another origin (${origin}).`);
      }
      let offered = c.req.header("x-csrf-token");
      if (offered === undefined) {
        const type = c.req.header("content-type") ?? "";
        if (
          type.startsWith("application/x-www-form-urlencoded") ||
          type.startsWith("multipart/form-data")
        ) {
          const form = await c.req.parseBody();
          offered = typeof form._csrf === "string" ? form._csrf : undefined;
        }
      }
      if (!csrfMatches(session, offered)) {
        context.logger.warn("console action refused: missing or wrong CSRF token", {
          path: c.req.path,
        });
        return signedOut(
          c,
          403,
          "Refused: the form's security token is missing or wrong. Reload the page and try again.",
        );
      }
    }
    c.set("session", session);
    await next();
  };
}

/** `POST /logout`: ends the session. */
export function logoutRoute(app: ConsoleApp, context: ConsoleContext): void {
  app.post("/logout", (c) => {
    context.sessions.end(getCookie(c, cookieName(context.tls)));
    deleteCookie(c, cookieName(context.tls), { path: "/", secure: context.tls });
    return c.html(
      page(
        { title: "Signed out", section: "/", deviceId: context.config.device.id, csrf: "" },
        html`<p>You are signed out. Run <code>ledge console</code> for a new login link.</p>`,
      ),
    );
  });
}
