/**
 * Modules: each module's status, restarts and back-off, its image or command; start, stop and
 * restart; and a module's page with its settings and a live log tail with search.
 */
import type { ModuleSummary, ReportedModule } from "../../../agent/mod.ts";
import type { ConsoleContext } from "../context.ts";
import { formatAgo, formatCount } from "../format.ts";
import type { ConsoleApp } from "../guard.ts";
import {
  actionButton,
  card,
  empty,
  type Html,
  html,
  live,
  notice,
  numeric,
  pill,
  table,
} from "../html.ts";
import { logEventStream } from "../log_stream.ts";
import { type ConsoleRequest, doneNotice, doneRedirect, moduleTone, render } from "./_shared.ts";

const ACTIONS = ["restart", "start", "stop"] as const;
type Action = (typeof ACTIONS)[number];
/** Lines of history a log tail starts with. */
const LOG_TAIL = 300;

function moduleLink(name: string): string {
  return `/modules/${encodeURIComponent(name)}`;
}

function actions(module: ModuleSummary, csrf: string): Html | "" {
  if (module.system) return "";
  const path = moduleLink(module.name);
  const stopped = module.status === "stopped" || module.desiredStatus === "stopped";
  return html`${actionButton(`${path}/restart`, "Restart", csrf)} ${
    stopped
      ? actionButton(`${path}/start`, "Start", csrf)
      : actionButton(`${path}/stop`, "Stop", csrf, {
        tone: "danger",
        confirm: `Stop ${module.name}? It stays stopped until started or redeployed.`,
      })
  }`;
}

function moduleRows(modules: readonly ModuleSummary[], csrf: string): Html {
  if (modules.length === 0) {
    return empty(html`No modules: deploy a manifest with <code>ledge deploy</code>.`);
  }
  return table(
    ["Module", "Status", numeric("Restarts"), "Details", "Image or command", ""],
    modules.map((m) =>
      html`
        <tr data-module="${m.name}">
          <td><a href="${moduleLink(m.name)}"><strong>${m
            .name}</strong></a><span class="hint">${m.type}${m.system
            ? " \u00b7 system"
            : ""}</span></td>
          <td data-k="status">${pill(moduleTone(m.status), m.status)}</td>
          <td class="num" data-k="restarts">${formatCount(m.restartCount)}</td>
          <td>${m.description}${m.desiredStatus !== "running" && !m.system
            ? html`<span class="hint">desired: ${m.desiredStatus}</span>`
            : ""}</td>
          <td class="mono">${m.config}</td>
          <td class="actions">${actions(m, csrf)}</td>
        </tr>
      `
    ),
  );
}

function details(reported: ReportedModule, summary: ModuleSummary | undefined): Html {
  const settings = JSON.stringify(reported.settings, null, 2);
  return html`
    <dl class="facts">
      <dt>Status</dt>
      <dd data-k="status">${pill(
        moduleTone(reported.runtimeStatus),
        reported.runtimeStatus,
      )} ${summary?.description ?? reported.statusDescription}</dd>
      <dt>Type</dt>
      <dd>${reported.type}${reported.version ? ` \u00b7 version ${reported.version}` : ""}</dd>
      <dt>Image or command</dt>
      <dd class="mono">${summary?.config ?? ""}</dd>
      <dt>Restart policy</dt>
      <dd>${reported.restartPolicy ?? "always"}</dd>
      <dt>Restarts</dt>
      <dd data-k="restarts">${formatCount(reported.restartCount)}${reported.lastRestartTimeUtc
        ? html`
          <span class="hint">last ${formatAgo(reported.lastRestartTimeUtc)}</span>
        `
        : ""}</dd>
      <dt>Exit code</dt>
      <dd>${reported.exitCode}</dd>
      <dt>Started</dt>
      <dd>${formatAgo(reported.lastStartTimeUtc)}</dd>
      <dt>Exited</dt>
      <dd>${formatAgo(reported.lastExitTimeUtc)}</dd>
    </dl>
    <details>
      <summary>Settings</summary>
      <pre class="json">${settings}</pre>
    </details>
  `;
}

function logPanel(name: string): Html {
  return html`
    <div class="logtail" data-log-stream="${moduleLink(name)}/logs?tail=${LOG_TAIL}">
      <div
        class="logbar"><input type="search" placeholder="Search the log&hellip;" aria-label="search the log"><button type="button" class="btn" data-pause>Pause</button><span class="count">connecting&hellip;</span></div>
      <pre class="log" aria-live="off"></pre>
    </div>
  `;
}

function modulePage(c: ConsoleRequest, context: ConsoleContext, name: string): Response {
  const { agent } = context.sources;
  const reported = agent.module(name);
  const summary = agent.modules().find((m) => m.name === name);
  if (!reported || !summary) {
    return render(c, context, { title: name, section: "/modules" }, [
      notice("error", `Cannot find module "${name}": it is not in the deployment.`),
      html`<p><a href="/modules">All modules</a></p>`,
    ], 404);
  }
  const csrf = c.get("session").csrf;
  return render(c, context, {
    title: name,
    section: "/modules",
    subtitle: html`<a href="/modules">Modules</a> &rsaquo; ${name}`,
  }, [
    doneNotice(c),
    html`<p class="row">${actions(summary, csrf)}</p>`,
    live("module-details", moduleLink(name), card("Module", details(reported, summary))),
    card(
      "Log",
      logPanel(name),
      html`<span class="aside">live &middot; last ${LOG_TAIL} lines, then as they come</span>`,
    ),
  ]);
}

async function act(context: ConsoleContext, action: Action, name: string): Promise<void> {
  const { agent } = context.sources;
  if (action === "restart") await agent.restart(name);
  else if (action === "start") await agent.startModule(name);
  else await agent.stopModule(name);
}

/** Registers the modules pages, the actions and the log stream. */
export function modulesRoutes(app: ConsoleApp, context: ConsoleContext): void {
  app.get("/modules", (c) => {
    const modules = context.sources.agent.modules();
    return render(c, context, {
      title: "Modules",
      section: "/modules",
      subtitle: `${
        modules.filter((m) => !m.system).length
      } in the deployment \u00b7 restarts back off and never give up`,
    }, [
      doneNotice(c),
      live("modules", "/modules", card("Modules", moduleRows(modules, c.get("session").csrf))),
    ]);
  });

  app.get("/modules/:name", (c) => modulePage(c, context, c.req.param("name")));

  for (const action of ACTIONS) {
    app.post(`/modules/:name/${action}`, async (c) => {
      const name = c.req.param("name");
      try {
        await act(context, action, name);
      } catch (error) {
        return render(c, context, { title: name, section: "/modules" }, [
          notice("error", `Cannot ${action} ${name}: ${(error as Error).message}`),
          html`<p><a href="/modules">All modules</a></p>`,
        ], 409);
      }
      context.logger.info(`console: ${action} ${name}`);
      return doneRedirect(c, moduleLink(name), action);
    });
  }

  app.get("/modules/:name/logs", async (c) => {
    const name = c.req.param("name");
    const tail = Math.min(
      5000,
      Math.max(0, Number.parseInt(c.req.query("tail") ?? "", 10) || LOG_TAIL),
    );
    const signal = AbortSignal.any([c.req.raw.signal, context.closing]);
    let logs: ReadableStream<Uint8Array>;
    try {
      logs = await context.sources.agent.logs(name, {
        tail,
        follow: true,
        timestamps: false,
        signal,
      });
    } catch (error) {
      return c.json({ error: `Cannot read the log of ${name}: ${(error as Error).message}` }, 404);
    }
    return new Response(logEventStream(logs), {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" },
    });
  });
}
