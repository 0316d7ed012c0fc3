/**
 * Fleet (at a parent): the devices below this ledge with their tags and connection state, a box
 * for IoT Hub's twin query language, and the deployments with their counts and rollouts.
 */
import type { FleetService } from "../../../fleet/mod.ts";
import type { ConsoleContext } from "../context.ts";
import { formatCount } from "../format.ts";
import type { ConsoleApp } from "../guard.ts";
import { card, empty, type Html, html, live, notice, numeric, pill, stat, table } from "../html.ts";
import { type ConsoleRequest, render } from "./_shared.ts";
import { deploymentRoutes, rolloutPill, systemCounts } from "./fleet_deployment.ts";

/** A device row of the fleet, as the query language sees it. */
interface DeviceDoc {
  deviceId?: string;
  connectionState?: string;
  capabilities?: { iotEdge?: boolean };
  tags?: Record<string, unknown>;
  configurations?: Record<string, { status?: string }>;
  deviceScope?: string;
}

const DEFAULT_QUERY = "SELECT deviceId, tags, connectionState FROM devices";

/** The fleet service, or undefined when this ledge has none running. */
export function fleetOf(context: ConsoleContext): FleetService | undefined {
  try {
    return context.sources.fleet?.();
  } catch {
    return undefined;
  }
}

function tagChips(tags: Record<string, unknown> | undefined): Html | string {
  const entries = Object.entries(tags ?? {});
  if (entries.length === 0) return "\u2014";
  return html`${
    entries.map(([key, value]) =>
      html`
        <span class="chip">${key}=${typeof value === "string"
          ? value
          : JSON.stringify(value)}</span>
      `
    )
  }`;
}

function deviceTable(devices: readonly DeviceDoc[]): Html {
  if (devices.length === 0) {
    return empty(
      html`No devices below: register a child with <code>ledge identity add-device &lt;id&gt; --edge</code>.`,
    );
  }
  return table(
    ["Device", "Kind", "Connection", "Tags", "Deployments"],
    devices.map((device) => {
      const connected = device.connectionState === "Connected";
      const deployments = Object.entries(device.configurations ?? {});
      return html`
        <tr data-device="${device.deviceId ?? ""}">
          <td><strong>${device.deviceId ?? "?"}</strong>${device.deviceScope
            ? html`<span class="hint">${device.deviceScope}</span>`
            : ""}</td>
          <td>${device.capabilities?.iotEdge ? "edge" : "leaf"}</td>
          <td data-k="connection">${pill(
            connected ? "ok" : "idle",
            connected ? "connected" : "disconnected",
          )}</td>
          <td>${tagChips(device.tags)}</td>
          <td>${deployments.length === 0 ? "\u2014" : deployments.map(([id, c]) =>
            html`
              <span class="chip">${id}: ${c.status ?? "?"}</span>
            `
          )}</td>
        </tr>
      `;
    }),
  );
}

function cell(value: unknown): Html | string {
  if (value === undefined || value === null) return "\u2014";
  if (typeof value === "object") return html`<code>${JSON.stringify(value)}</code>`;
  return String(value);
}

/** The query's result: one column per top-level key (objects as JSON), or the bare values. */
function resultTable(items: readonly unknown[]): Html {
  if (items.length === 0) return empty("No rows.");
  const objects = items.every((item) =>
    typeof item === "object" && item !== null && !Array.isArray(item)
  );
  if (!objects) {
    return table(
      ["Value"],
      items.map((item) =>
        html`
          <tr>
            <td>${cell(item)}</td>
          </tr>
        `
      ),
    );
  }
  const columns = [...new Set(items.flatMap((item) => Object.keys(item as object)))].slice(0, 10);
  return table(
    columns,
    items.map((item) =>
      html`<tr>${
        columns.map((column) => html`<td>${cell((item as Record<string, unknown>)[column])}</td>`)
      }</tr>`
    ),
  );
}

/** Where a query is wrong, pointed at under its text. */
function queryError(text: string, error: { message: string; cause?: unknown }): Html {
  const where = error.cause as { line?: number; column?: number } | undefined;
  const line = where?.line ? text.split("\n")[where.line - 1] : undefined;
  return notice(
    "error",
    html`<span data-k="query-error">${error.message}</span>${
      line !== undefined && where?.column
        ? html`<pre class="caret">${line}\n${" ".repeat(Math.max(0, where.column - 1))}^</pre>`
        : ""
    }`,
  );
}

function queryCard(c: ConsoleRequest, fleet: FleetService): Html {
  const text = c.req.query("q") ?? DEFAULT_QUERY;
  const token = c.req.query("page");
  let result: Html;
  try {
    const page = fleet.query(text, {
      pageSize: 50,
      ...(token ? { continuationToken: token } : {}),
    });
    const next = page.continuationToken
      ? html`<p><a href="/fleet?q=${encodeURIComponent(text)}&amp;page=${
        encodeURIComponent(page.continuationToken)
      }#query">Next page</a></p>`
      : "";
    result = html`<p class="sub" data-k="query-rows">${formatCount(page.items.length)} rows</p>${
      resultTable(page.items)
    }${next}`;
  } catch (error) {
    result = queryError(text, error as Error);
  }
  return card(
    "Query",
    html`
      <form method="get" action="/fleet#query" class="row" id="query">
        <input type="text" name="q" value="${text}" class="grow mono" aria-label="IoT Hub query"
          spellcheck="false">
        <button type="submit" class="btn primary">Run</button>
      </form>
      <p
        class="sub">IoT Hub's query language: <code>SELECT * FROM devices WHERE tags.site = 'plant-1'</code>, <code>SELECT COUNT() AS n FROM devices GROUP BY connectionState</code>, <code>&hellip; FROM devices.modules</code>.</p>
      ${result}
    `,
  );
}

function deploymentTable(fleet: FleetService): Html {
  const deployments = fleet.listDeployments();
  if (deployments.length === 0) {
    return empty(
      html`No deployments: <code>ledge deployment create &lt;id&gt; --content deployment.json --target-condition "tags.env='prod'"</code>.`,
    );
  }
  return table(
    ["Deployment", numeric("Priority"), "Target condition", "Devices", "Rollout"],
    deployments.map((d) =>
      html`
        <tr data-deployment="${d.id}">
          <td><a href="/fleet/deployments/${encodeURIComponent(d.id)}"><strong>${d
            .id}</strong></a>${d.layered ? html`<span class="hint">layered</span>` : ""}</td>
          <td class="num">${d.priority}</td>
          <td class="mono">${d.targetCondition}</td>
          <td>${systemCounts(d.systemMetrics.results)}</td>
          <td>${"rolloutStatus" in d && d.rolloutStatus
            ? rolloutPill(d.rolloutStatus)
            : "\u2014"}</td>
        </tr>
      `
    ),
  );
}

function fleetBody(c: ConsoleRequest, context: ConsoleContext): Html {
  const fleet = fleetOf(context);
  if (!fleet) return notice("warn", "The fleet is not running here.");
  const devices = fleet.query("SELECT * FROM devices", { pageSize: 1000 }).items as DeviceDoc[];
  const connected = devices.filter((d) => d.connectionState === "Connected").length;
  const edges = devices.filter((d) => d.capabilities?.iotEdge).length;
  const deployments = fleet.listDeployments();
  const rolling =
    deployments.filter((d) => "rolloutStatus" in d && d.rolloutStatus === "rolling").length;
  return html`${
    live(
      "fleet-live",
      "/fleet",
      [
        html`<div class="tiles">${
          stat("devices", formatCount(devices.length), { key: "devices", tone: "info" })
        }${stat("edge children", formatCount(edges), { tone: "info" })}${
          stat("connected", `${connected} / ${devices.length}`, {
            key: "connected",
            tone: connected === devices.length ? "ok" : "warn",
          })
        }${stat("deployments", formatCount(deployments.length), { tone: "info" })}${
          stat("rolling out", formatCount(rolling), { tone: rolling > 0 ? "warn" : "idle" })
        }</div>`,
        card("Devices", deviceTable(devices)),
        card("Deployments", deploymentTable(fleet)),
      ],
      10,
    )
  }${queryCard(c, fleet)}`;
}

/** Registers the fleet pages. */
export function fleetRoutes(app: ConsoleApp, context: ConsoleContext): void {
  app.get("/fleet", (c) =>
    render(c, context, {
      title: "Fleet",
      section: "/fleet",
      subtitle: "the devices below this ledge, their deployments and rollouts",
    }, fleetBody(c, context)));
  deploymentRoutes(app, context, fleetOf);
}
