/**
 * Overview: who this device is, how it is doing (modules, messages, queues, memory, CPU), the
 * last hour in charts, and `ledge check`'s verdicts with their fixes.
 */
import { VERSION } from "../../../core/version.ts";
import { chartWindowMs, timeChart } from "../chart_svg.ts";
import type { ConsoleCheck, ConsoleContext } from "../context.ts";
import { liveRates, readCounters } from "../counters.ts";
import type { ConsoleApp } from "../guard.ts";
import { formatBytes, formatCount, formatDurationShort, formatRate } from "../format.ts";
import { card, empty, type Html, html, live, pill, stat } from "../html.ts";
import { render } from "./_shared.ts";

const MARKS: Record<ConsoleCheck["status"], string> = {
  ok: "\u2714",
  warning: "\u26a0",
  error: "\u2718",
};
/** Checks are slow (DNS, the engine, the parent): their result is kept this long. */
const CHECKS_TTL_MS = 30_000;

function tiles(context: ConsoleContext): Html {
  const counters = readCounters(context.sources);
  const rates = liveRates(context.history, counters);
  const modules = context.sources.agent.modules().filter((m) => !m.system);
  const running = modules.filter((m) => m.status === "running").length;
  const failing = modules.filter((m) => m.status === "backoff" || m.status === "failed").length;
  const upstream = context.sources.upstream.state();
  return html`<div class="tiles">
${stat("uptime", formatDurationShort(performance.now() / 1000), { tone: "info" })}
${
    stat("modules running", `${running} / ${modules.length}`, {
      key: "modules-running",
      tone: failing > 0 ? "error" : running === modules.length ? "ok" : "warn",
    })
  }
${stat("messages in", formatRate(rates.received), { key: "rate", tone: "info" })}
${stat("queued", formatCount(counters?.queueDepth ?? 0), { key: "queued", tone: "info" })}
${
    stat(
      "upstream",
      upstream.enabled ? (upstream.connected ? "connected" : "offline") : "none",
      { tone: !upstream.enabled ? "idle" : upstream.connected ? "ok" : "warn" },
    )
  }
${stat("memory (RSS)", formatBytes(Deno.memoryUsage().rss), { key: "rss" })}
${stat("CPU", `${rates.cpuPercent.toFixed(1)} %`, { key: "cpu" })}
</div>`;
}

function deviceCard(context: ConsoleContext): Html {
  const { config, sources } = context;
  const status = sources.agent.status();
  const engine = sources.agent.engineInfo();
  const desired = status.lastDesiredStatus;
  const upstream = sources.upstream.state();
  const devices =
    sources.security.registry.list().filter((identity) =>
      identity.kind === "leaf-device" || identity.kind === "child-edge-device"
    ).length;
  const soonest = sources.security.certificates().reduce<
    { name: string; daysLeft: number } | undefined
  >(
    (first, cert) => (!first || cert.daysLeft < first.daysLeft ? cert : first),
    undefined,
  );
  return card(
    "Device",
    html`
      <dl class="facts">
        <dt>Device id</dt>
        <dd data-k="device-id">${config.device.id}</dd>
        <dt>Host name</dt>
        <dd>${config.device.hostname}</dd>
        <dt>Version</dt>
        <dd data-k="version">ledge ${VERSION} &middot; Deno ${Deno.version.deno}</dd>
        <dt>State dir</dt>
        <dd class="mono">${config.state.dir}</dd>
        <dt>Engine</dt>
        <dd>${engine ? `${engine.name} ${engine.version}` : status.engine}</dd>
        <dt>Deployment</dt>
        <dd>${status.version === undefined ? "none yet" : `version ${status.version}`} ${pill(
          desired.code === 200 ? "ok" : desired.code === 406 ? "idle" : "error",
          `${desired.code}`,
        )} ${desired.description ?? ""}${status.converging
          ? html`
            ${pill("info", "applying")}
          `
          : ""}</dd>
        <dt>Upstream</dt>
        <dd>${upstream.parent ?? "none (standalone)"}</dd>
        <dt>Identities</dt>
        <dd>${devices} leaf or child ${devices === 1
          ? "device"
          : "devices"} &middot; trust domain ${sources
          .security.trustDomain}</dd>
        <dt>Certificates</dt>
        <dd>${soonest
          ? `${soonest.name} ends first, in ${soonest.daysLeft.toFixed(1)} days (renewed before)`
          : "\u2014"}</dd>
        <dt>Console</dt>
        <dd>${config.console.tls ? "HTTPS" : "HTTP"} on ${config.console.listen}</dd>
      </dl>
    `,
  );
}

function charts(context: ConsoleContext): Html {
  const series = context.history.series();
  const now = Date.now();
  const windowMs = chartWindowMs(series.at, now);
  return html`<div class="grid charts">
${
    card(
      "Messages",
      timeChart({
        id: "chart-rate",
        title: "received per second",
        at: series.at,
        values: series.messageRate,
        format: formatRate,
        now,
        windowMs,
      }),
    )
  }
${
    card(
      "Queues",
      timeChart({
        id: "chart-depth",
        title: "messages waiting",
        at: series.at,
        values: series.queueDepth,
        format: formatCount,
        now,
        windowMs,
      }),
    )
  }
${
    card(
      "Memory",
      timeChart({
        id: "chart-rss",
        title: "resident set size",
        at: series.at,
        values: series.rssBytes,
        format: formatBytes,
        now,
        windowMs,
      }),
    )
  }
${
    card(
      "CPU",
      timeChart({
        id: "chart-cpu",
        title: "of one core",
        at: series.at,
        values: series.cpuPercent,
        format: (v) => `${v.toFixed(1)} %`,
        now,
        windowMs,
      }),
    )
  }
</div>`;
}

function checksList(results: readonly ConsoleCheck[], at: number): Html {
  const count = (status: ConsoleCheck["status"]) =>
    results.filter((r) => r.status === status).length;
  return html`
    <div id="checks">
      <p
        class="sub">${count("ok")} ok, ${count("warning")} warnings, ${count(
          "error",
        )} errors &middot; checked ${new Date(at).toISOString().slice(11, 19)} UTC
    <button class="btn" hx-get="/checks?fresh=1" hx-target="#checks" hx-swap="outerHTML">Check again</button></p>
      <ul class="checks">${results.map((r) =>
        html`
          <li class="${r.status}"
            data-check="${r.id}"><span class="mark">${MARKS[r.status]}</span><span><strong>${r
              .title}</strong>: ${r.message}</span>${r.fix
              ? html`<span class="fix">&rarr; ${r.fix}</span>`
              : ""}</li>
        `
      )}</ul>
    </div>
  `;
}

/** Registers the overview and its checks fragment. */
export function overviewRoutes(app: ConsoleApp, context: ConsoleContext): void {
  let cached: { at: number; results: Promise<ConsoleCheck[]> } | undefined;

  app.get("/", (c) =>
    render(c, context, {
      title: "Overview",
      section: "/",
      subtitle: `${context.config.device.id} \u00b7 ledge ${VERSION}`,
    }, [
      live("overview-tiles", "/", tiles(context)),
      live("overview-charts", "/", charts(context), 10),
      html`<div class="grid">${deviceCard(context)}${
        card(
          "ledge check",
          html`
            <div id="checks" hx-get="/checks" hx-trigger="load" hx-swap="outerHTML">
              <p class="empty">Running the checks&hellip;</p>
            </div>
          `,
        )
      }</div>`,
    ]));

  app.get("/checks", async (c) => {
    const checks = context.sources.checks;
    if (!checks) {
      return c.html(html`<div id="checks">${empty("No checks are available here.")}</div>`);
    }
    const fresh = c.req.query("fresh") !== undefined;
    if (!cached || fresh || Date.now() - cached.at > CHECKS_TTL_MS) {
      cached = { at: Date.now(), results: checks() };
    }
    const { at, results } = cached;
    try {
      return c.html(checksList(await results, at));
    } catch (error) {
      cached = undefined;
      return c.html(
        html`<div id="checks">${empty(`The checks failed: ${(error as Error).message}`)}</div>`,
      );
    }
  });
}
