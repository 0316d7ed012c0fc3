/**
 * One fleet deployment: what it targets, IoT Hub's system metrics and its custom metrics with
 * the devices behind each, the staged rollout wave by wave, and what happened on every device.
 */
import type { DeploymentView, FleetService } from "../../../fleet/mod.ts";
import type { ConsoleContext } from "../context.ts";
import { formatCount, formatTime } from "../format.ts";
import type { ConsoleApp } from "../guard.ts";
import {
  card,
  empty,
  type Html,
  html,
  notice,
  numeric,
  pill,
  stat,
  table,
  type Tone,
} from "../html.ts";
import { render } from "./_shared.ts";

type SystemResults = DeploymentView["systemMetrics"]["results"];
type Rollout = NonNullable<DeploymentView["rollout"]>;

const ROLLOUT_TONE: Record<string, Tone> = {
  rolling: "info",
  completed: "ok",
  aborted: "error",
  "not started": "idle",
};

/** A rollout's status as a coloured label. */
export function rolloutPill(status: string): Html {
  return pill(ROLLOUT_TONE[status] ?? "idle", status);
}

/** The four system counts, short: `3 targeted . 2 applied . 2 ok . 0 failed (as check and cross marks)`. */
export function systemCounts(results: SystemResults): Html {
  return html`
    <span data-k="targeted">${formatCount(results.targetedCount)}</span> targeted &middot; <span
      data-k="applied">${formatCount(
        results.appliedCount,
      )}</span> applied &middot; <span class="ok-text"
      data-k="succeeded">${formatCount(
        results.reportedSuccessfulCount,
      )} &#x2714;</span> &middot; <span class="error-text"
      data-k="failed">${formatCount(results.reportedFailedCount)} &#x2718;</span>
  `;
}

/** The waves as one bar: done, current (rolling or aborted) and still to come. */
export function wavesBar(rollout: Rollout): Html {
  const width = 600;
  let previous = 0;
  // `rollout.wave` is 1-based.
  const current = rollout.wave - 1;
  const segments = rollout.waves.map((percent, i) => {
    const x = (previous / 100) * width;
    const w = ((percent - previous) / 100) * width;
    previous = percent;
    const state = i < current || rollout.status === "completed"
      ? "done"
      : i === current
      ? (rollout.status === "aborted"
        ? "aborted"
        : rollout.status === "rolling"
        ? "current"
        : "next")
      : "next";
    return html`
      <g class="wave ${state}" data-wave="${i + 1}">
        <title>wave ${i + 1}: up to ${percent}% (${state})</title>
        <rect x="${(x + 1).toFixed(1)}" y="4" width="${Math.max(1, w - 2).toFixed(
          1,
        )}" height="16" rx="4" />
        <text x="${(x + w - 4).toFixed(1)}" y="36" text-anchor="end">${percent}%</text>
      </g>
    `;
  });
  return html`
    <svg class="waves" viewBox="0 0 ${width} 42" role="img"
      aria-label="rollout waves">${segments}</svg>
  `;
}

function rolloutCard(rollout: Rollout | undefined): Html {
  if (!rollout) return card("Rollout", empty("All targeted devices at once (no staged rollout)."));
  return card(
    "Rollout",
    html`<p>${
      rolloutPill(rollout.status)
    } wave <strong data-k="wave">${rollout.wave}</strong> of ${rollout.waves.length} &middot; ${
      formatCount(rollout.releasedDeviceIds.length)
    } ${
      rollout.releasedDeviceIds.length === 1 ? "device" : "devices"
    } released &middot; next wave after ${rollout.waitSeconds} s of success &middot; aborts above ${rollout.abortIfFailedPercent}% failed</p>
${wavesBar(rollout)}
${rollout.reason ? notice("error", `Aborted: ${rollout.reason}`) : ""}
${
      rollout.returnedDeviceIds && rollout.returnedDeviceIds.length > 0
        ? html`<p class="sub">Returned to what they ran before: ${
          rollout.returnedDeviceIds.join(", ")
        }</p>`
        : ""
    }`,
  );
}

function metricsCard(view: DeploymentView): Html {
  const names = Object.keys(view.metrics.queries);
  if (names.length === 0) return card("Custom metrics", empty("None defined (metrics.queries)."));
  return card(
    "Custom metrics",
    table(
      ["Metric", "Query", numeric("Devices"), "Which"],
      names.map((name) =>
        html`
          <tr data-metric="${name}">
            <td><strong>${name}</strong></td>
            <td class="mono">${view.metrics.queries[name]}</td>
            <td class="num" data-k="result">${formatCount(view.metrics.results[name] ?? 0)}</td>
            <td>${(view.metrics.deviceIds[name] ?? []).join(", ") || "\u2014"}</td>
          </tr>
        `
      ),
    ),
  );
}

const OUTCOME_TONE: Record<string, Tone> = { success: "ok", failed: "error", pending: "warn" };

function devicesCard(view: DeploymentView): Html {
  if (view.devices.length === 0) {
    return card(
      "Devices",
      empty(
        view.targetsNoDevice ? "The target condition selects no device now." : "No device yet.",
      ),
    );
  }
  return card(
    "Devices",
    table(
      ["Device", "Status", "Outcome", "Details"],
      view.devices.map((device) =>
        html`
          <tr data-device="${device.deviceId}">
            <td><strong>${device.deviceId}</strong></td>
            <td>${device.status}</td>
            <td>${device.outcome
              ? pill(OUTCOME_TONE[device.outcome] ?? "idle", device.outcome)
              : "\u2014"}</td>
            <td>${device.error ?? device.description ??
              (device.overriddenBy ? `overridden by ${device.overriddenBy}` : "")}${device.tie
              ? html`<span class="hint">tie of equal priority: ${device.tie.winner} wins</span>`
              : ""}</td>
          </tr>
        `
      ),
    ),
  );
}

function deploymentBody(view: DeploymentView): Html {
  const results = view.systemMetrics.results;
  return html`<div class="tiles">${
    stat("targeted", formatCount(results.targetedCount), { tone: "info" })
  }${stat("applied", formatCount(results.appliedCount), { tone: "info" })}${
    stat("reported success", formatCount(results.reportedSuccessfulCount), { tone: "ok" })
  }${
    stat("reported failed", formatCount(results.reportedFailedCount), {
      tone: results.reportedFailedCount > 0 ? "error" : "ok",
    })
  }</div>
${
    card(
      "Deployment",
      html`
        <dl class="facts">
          <dt>Target condition</dt>
          <dd class="mono">${view.targetCondition}</dd>
          <dt>Priority</dt>
          <dd>${view.priority}${view.layered ? " \u00b7 layered" : ""}</dd>
          <dt>Labels</dt>
          <dd>${Object.keys(view.labels).length === 0
            ? "\u2014"
            : Object.entries(view.labels).map(([k, v]) =>
              html`
                <span class="chip">${k}=${v}</span>
              `
            )}</dd>
          <dt>Created</dt>
          <dd>${formatTime(view.createdTimeUtc)}</dd>
        </dl>
      `,
    )
  }
${rolloutCard(view.rollout)}
${metricsCard(view)}
${devicesCard(view)}`;
}

/** Registers `/fleet/deployments/:id`. */
export function deploymentRoutes(
  app: ConsoleApp,
  context: ConsoleContext,
  fleetOf: (context: ConsoleContext) => FleetService | undefined,
): void {
  app.get("/fleet/deployments/:id", (c) => {
    const id = c.req.param("id");
    const fleet = fleetOf(context);
    let view: DeploymentView;
    try {
      if (!fleet) throw new Error("the fleet is not running here");
      view = fleet.showDeployment(id);
    } catch (error) {
      return render(c, context, { title: id, section: "/fleet" }, [
        notice("error", `Cannot show deployment ${id}: ${(error as Error).message}`),
        html`<p><a href="/fleet">Fleet</a></p>`,
      ], 404);
    }
    return render(c, context, {
      title: id,
      section: "/fleet",
      subtitle: html`<a href="/fleet">Fleet</a> &rsaquo; deployment`,
    }, deploymentBody(view));
  });
}
