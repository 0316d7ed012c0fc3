/**
 * Fleet (at a parent): the child edge devices registered here, whether each is connected, and
 * what its agent reports (its modules and the last deployment's status).
 */
import type { ConsoleContext } from "../context.ts";
import type { ConsoleApp } from "../guard.ts";
import { card, empty, type Html, html, live, pill, table } from "../html.ts";
import { hubOf, moduleTone, render } from "./_shared.ts";

interface ChildReport {
  lastDesiredStatus?: { code?: number; description?: string };
  modules?: Record<string, { runtimeStatus?: string }>;
}

function childrenTable(context: ConsoleContext): Html {
  const hub = hubOf(context);
  const children = context.sources.security.registry.list().filter((identity) =>
    identity.kind === "child-edge-device"
  );
  if (children.length === 0) {
    return empty(
      html`No children: register one with <code>ledge identity add-device &lt;id&gt; --edge</code>.`,
    );
  }
  const connected = new Set((hub?.stats().clients ?? []).map((client) => client.toLowerCase()));
  return table(
    ["Child", "Connection", "Deployment", "Modules"],
    children.map((child) => {
      const reported =
        (hub?.getTwin({ deviceId: child.deviceId, moduleId: "$edgeAgent" }).reported ??
          {}) as ChildReport;
      const online = connected.has(child.deviceId.toLowerCase());
      const status = reported.lastDesiredStatus;
      const modules = Object.entries(reported.modules ?? {});
      return html`
        <tr data-child="${child.deviceId}">
          <td><strong>${child.deviceId}</strong></td>
          <td data-k="connection">${pill(
            online ? "ok" : "idle",
            online ? "connected" : "disconnected",
          )}</td>
          <td>${status?.code === undefined
            ? "—"
            : html`${pill(status.code === 200 ? "ok" : "error", String(status.code))} ${
              status.description ?? ""
            }`}</td>
          <td>${modules.length === 0 ? "—" : modules.map(([name, m]) =>
            html`
              ${pill(moduleTone(m.runtimeStatus ?? "unknown"), name)}
            `
          )}</td>
        </tr>
      `;
    }),
  );
}

/** Registers the fleet page. */
export function fleetRoutes(app: ConsoleApp, context: ConsoleContext): void {
  app.get("/fleet", (c) =>
    render(c, context, {
      title: "Fleet",
      section: "/fleet",
      subtitle: "the ledges below this one",
    }, live("fleet", "/fleet", card("Children", childrenTable(context)))));
}
