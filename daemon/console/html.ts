/**
 * The console's HTML: the page shell and the small pieces every page uses. Interpolated values
 * are escaped by hono's `html` tag; only other `html` values pass through unescaped.
 */
import { html as honoHtml } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { VERSION } from "../../core/version.ts";

export { raw } from "hono/html";

/** A piece of escaped HTML. */
export type Html = HtmlEscapedString;

/** What a page or card holds: HTML, text (escaped), or a list of them. */
export type Content = Html | string | readonly (Html | string)[];

/**
 * The `html` tag: strings and numbers are escaped, arrays joined, `html` values kept. Console
 * templates never hold promises, so the result is always ready.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const rendered = honoHtml(strings, ...values);
  if (rendered instanceof Promise) {
    throw new TypeError("Cannot render the page: a template was given a promise");
  }
  return rendered;
}

/** What a status looks like: a colour class and a mark. */
export type Tone = "ok" | "warn" | "error" | "idle" | "info";

/** The sections of the console, in the order the menu lists them. */
export const SECTIONS = [
  { path: "/", label: "Overview" },
  { path: "/modules", label: "Modules" },
  { path: "/flow", label: "Message flow" },
  { path: "/queues", label: "Queues" },
  { path: "/twins", label: "Twins" },
  { path: "/identities", label: "Identities" },
  { path: "/fleet", label: "Fleet" },
] as const;

/** A section's path. */
export type SectionPath = (typeof SECTIONS)[number]["path"];

/** What a page tells the shell. */
export interface PageOptions {
  title: string;
  section: SectionPath;
  deviceId: string;
  csrf: string;
  /** One line under the title. */
  subtitle?: Html | string;
  /** Sections hidden from the menu (the fleet where this ledge has no children). */
  hidden?: readonly SectionPath[];
}

const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
});

/** The whole page around `body`. */
export function page(options: PageOptions, body: Content): Html {
  const asset = (name: string) => `/assets/${name}?v=${encodeURIComponent(VERSION)}`;
  const nav = SECTIONS.filter((s) => !options.hidden?.includes(s.path)).map((s) =>
    html`<a href="${s.path}" ${
      s.path === options.section ? html`aria-current="page"` : ""
    }>${s.label}</a>`
  );
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="csrf-token" content="${options.csrf}">
        <meta name="htmx-config" content="${HTMX_CONFIG}">
        <title>${options.title} &middot; ${options.deviceId} &middot; ledge</title>
        <link rel="icon" href="${asset("icon.svg")}" type="image/svg+xml">
        <link rel="stylesheet" href="${asset("console.css")}">
        <script src="${asset("htmx.min.js")}" defer></script>
        <script src="${asset("console.js")}" defer></script>
      </head>
      <body>
        <aside class="side">
          <a class="brand" href="/"><span class="logo" aria-hidden="true"></span>ledge</a>
          <div class="device" title="device id">${options.deviceId}</div>
          <nav>${nav}</nav>
          <form method="post" action="/logout" class="signout">
            <input type="hidden" name="_csrf" value="${options.csrf}">
            <button type="submit" class="link">Sign out</button>
          </form>
          <div class="version">v${VERSION}</div>
        </aside>
        <main>
      <header class="head">
        <h1>${options.title}</h1>
        ${options.subtitle ? html`<p class="sub">${options.subtitle}</p>` : ""}
      </header>
      ${body}
        </main>
        <div id="offline" class="banner"
          hidden>Signed out or unreachable: run <code>ledge console</code> for a new link.</div>
      </body>
    </html>
  `;
}

/**
 * A region the page refreshes every `seconds` (htmx re-fetches the page and swaps this element),
 * so numbers stay live without reloading the page.
 */
export function live(id: string, path: string, body: Content, seconds = 5): Html {
  return html`
    <div id="${id}" class="live" hx-get="${path}" hx-trigger="every ${seconds}s"
      hx-select="#${id}" hx-swap="outerHTML">${body}</div>
  `;
}

/** A coloured status label. */
export function pill(tone: Tone, text: string): Html {
  return html`<span class="pill ${tone}">${text}</span>`;
}

/** A card with a heading. */
export function card(title: string, body: Content, extra: Html | string = ""): Html {
  return html`<section class="card"><h2>${title}${extra}</h2>${body}</section>`;
}

/** A big number with a label, for the overview's tiles. */
export function stat(
  label: string,
  value: string,
  options: { key?: string; tone?: Tone } = {},
): Html {
  return html`
    <div class="stat ${options.tone ?? ""}">
      <div class="value" ${options.key ? html`data-k="${options.key}"` : ""}>${value}</div>
      <div class="label">${label}</div>
    </div>
  `;
}

/** A POST form of one button, carrying the CSRF token. */
export function actionButton(
  action: string,
  label: string,
  csrf: string,
  options: { confirm?: string; tone?: "danger" | "plain"; fields?: Record<string, string> } = {},
): Html {
  const fields = Object.entries(options.fields ?? {}).map(([name, value]) =>
    html`<input type="hidden" name="${name}" value="${value}">`
  );
  return html`
    <form method="post" action="${action}" class="inline"
      ${options.confirm
        ? html`data-confirm="${options.confirm}"`
        : ""}><input type="hidden" name="_csrf" value="${csrf}">${fields}<button type="submit" class="btn ${options
        .tone ?? "plain"}">${label}</button></form>
  `;
}

/** A notice above a page's content (after an action). */
export function notice(tone: Tone, text: string | Html): Html {
  return html`<div class="notice ${tone}" role="status">${text}</div>`;
}

/** An empty-state line inside a card. */
export function empty(text: string | Html): Html {
  return html`<p class="empty">${text}</p>`;
}

/** A column heading; `numeric` ones are right-aligned. */
export type Column = string | { label: string; numeric: true };

/** A table with a heading row, scrolling sideways when it is wider than its card. */
export function table(columns: readonly Column[], rows: Content): Html {
  const head = columns.map((column) =>
    typeof column === "string"
      ? html`<th>${column}</th>`
      : html`<th class="num">${column.label}</th>`
  );
  return html`
    <div class="scroll">
      <table>
        <thead>
          <tr>${head}</tr>
        </thead>
        <tbody>${rows}</tbody>
      </table>
    </div>
  `;
}

/** A right-aligned column. */
export function numeric(label: string): Column {
  return { label, numeric: true };
}

/** A path or expression that may wrap after each `/` or `.` rather than mid-word. */
export function breakable(text: string): Html {
  const parts = text.split(/(?<=[/.])/);
  return html`${parts.map((part, i) => (i === 0 ? part : html`<wbr>${part}`))}`;
}
