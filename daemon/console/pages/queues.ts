/**
 * Queues: each endpoint's durable queue (depth, bytes, age of the oldest message, drops: expired,
 * refused when full, lost with their body missing from the store's body log), and
 * the upstream link that drains `$upstream`: its state, and how fast the backlog goes; and the
 * store's disk: how long its fdatasyncs take.
 */
import type { HubStats } from "../../../hub/mod.ts";
import type { UpstreamState } from "../../../upstream/mod.ts";
import { chartWindowMs, timeChart } from "../chart_svg.ts";
import type { ConsoleContext } from "../context.ts";
import { countersOf, type LiveRates, liveRates } from "../counters.ts";
import { histogramQuantile, type HistogramSnapshot } from "../../../core/histogram.ts";
import {
  formatAgo,
  formatBytes,
  formatCount,
  formatDuration,
  formatMilliseconds,
  formatRate,
} from "../format.ts";
import type { ConsoleApp } from "../guard.ts";
import {
  breakable,
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
import { hubOf, render } from "./_shared.ts";

const UPSTREAM_QUEUE = "$upstream";

function queueTable(stats: HubStats | undefined): Html {
  if (!stats) return notice("warn", "The hub is not running.");
  const queues = stats.queues;
  if (queues.length === 0) return empty("No endpoint has received a message yet.");
  return table(
    [
      "Endpoint",
      numeric("Messages"),
      numeric("Bytes"),
      numeric("Oldest"),
      numeric("TTL drops"),
      numeric("Refused (full)"),
      numeric("Lost (body missing)"),
    ],
    queues.map((q) =>
      html`
        <tr data-endpoint="${q.endpoint}">
          <td class="mono">${breakable(q.endpoint)}</td>
          <td class="num" data-k="count" data-v="${q.count}">${formatCount(q.count)}</td>
          <td class="num" data-k="bytes" data-v="${q.bytes}">${formatBytes(q.bytes)}</td>
          <td class="num" data-k="oldest">${q.oldestAgeSeconds === null
            ? "\u2014"
            : formatDuration(q.oldestAgeSeconds)}</td>
          <td class="num" data-k="expired">${formatCount(q.dropped.expired)}</td>
          <td class="num" data-k="full">${formatCount(q.dropped.full)}</td>
          <td class="num" data-k="lost">${formatCount(q.dropped.lost)}</td>
        </tr>
      `
    ),
  );
}

function drain(depth: number, perSecond: number, connected: boolean): string {
  if (depth === 0) return "empty";
  if (!connected) return "waiting for the parent";
  if (perSecond <= 0) return "not draining";
  return `empty in about ${formatDuration(depth / perSecond)}`;
}

function upstreamCard(
  state: UpstreamState,
  stats: HubStats | undefined,
  rates: LiveRates,
): Html {
  if (!state.enabled) {
    return card(
      "Upstream",
      empty(
        html`No parent: messages routed to <code>$upstream</code> wait here until <code>[upstream]</code> names one.`,
      ),
    );
  }
  const depth = stats?.queues.find((q) => q.endpoint === UPSTREAM_QUEUE)?.count ?? 0;
  const device = state.device;
  const f = state.forwarding;
  const deadLettered = Object.values(f.deadLettered).reduce((a, b) => a + b, 0);
  return card(
    "Upstream",
    html`<dl class="facts">
<dt>Parent</dt><dd class="mono">${state.parent ?? "\u2014"}</dd>
<dt>Link</dt><dd data-k="link">${
      pill(state.connected ? "ok" : "warn", state.connected ? "connected" : "offline")
    } ${device?.since ? `since ${formatAgo(device.since)}` : ""}</dd>
${
      device?.lastError
        ? html`
          <dt>Last error</dt>
          <dd>${device.lastError} (${formatCount(device.attempts)} attempts)</dd>
        `
        : ""
    }
<dt>Backlog</dt><dd><span data-k="backlog">${
      formatCount(depth)
    }</span> messages &middot; draining ${formatRate(rates.forwarded)} &middot; ${
      drain(depth, rates.forwarded, state.connected)
    }</dd>
<dt>Forwarded</dt><dd>${formatCount(f.forwarded)} acknowledged &middot; ${
      formatCount(f.inflight)
    } in flight</dd>
<dt>Dropped</dt><dd>${formatCount(f.expired + f.expiredInQueue)} expired &middot; ${
      formatCount(deadLettered)
    } dead-lettered</dd>
<dt>Connections</dt><dd>${
      formatCount(state.connections.length)
    } open (one per identity sending up)</dd>
</dl>`,
  );
}

/** p50 and p99 of `seconds` in ms, as the card shows them. */
function syncQuantiles(seconds: HistogramSnapshot): { p50: number; p99: number } {
  return {
    p50: histogramQuantile(seconds, 0.5) * 1000,
    p99: histogramQuantile(seconds, 0.99) * 1000,
  };
}

/** The syncs of the last few seconds (the live window), or why there are none to show. */
function recentSyncs(recent: LiveRates): Html {
  const seconds = Math.round(recent.seconds);
  if (recent.syncSeconds === undefined) return html`<span data-k="sync-recent">\u2014</span>`;
  if (recent.syncSeconds.count === 0) {
    return html`<span data-k="sync-recent">none</span> in the last ${seconds} s`;
  }
  const { p50, p99 } = syncQuantiles(recent.syncSeconds);
  return html`
    p50 ${formatMilliseconds(p50)} &middot; p99 <span data-k="sync-recent"
      data-v="${p99}">${formatMilliseconds(p99)}</span> (${formatCount(
        recent.syncSeconds.count,
      )} syncs in the last ${seconds} s)
  `;
}

/**
 * The store's fdatasyncs: how many, where they ran, how long they took (the floor under every
 * durable PUBACK) lately and since start, and how often the disk was too slow for the event loop.
 */
function storeDiskCard(stats: HubStats | undefined, rates: LiveRates): Html {
  if (!stats) return card("Store disk", notice("warn", "The hub is not running."));
  const { syncs } = stats.store;
  const { seconds } = syncs;
  if (seconds.count === 0) {
    return card("Store disk", empty("No message has been made durable yet."));
  }
  const { p50, p99 } = syncQuantiles(seconds);
  return card(
    "Store disk",
    html`
      <dl class="facts">
        <dt>Syncs</dt>
        <dd><span data-k="syncs" data-v="${seconds.count}">${formatCount(
          seconds.count,
        )}</span> &middot; ${formatCount(syncs.onLoop)} on the event loop &middot; ${formatCount(
          syncs.onPool,
        )} on a thread</dd>
        <dt>Lately</dt>
        <dd>${recentSyncs(rates)}</dd>
        <dt>Since start</dt>
        <dd>p50 <span data-k="sync-p50">${formatMilliseconds(
          p50,
        )}</span> &middot; p99 <span data-k="sync-p99" data-v="${p99}">${formatMilliseconds(
          p99,
        )}</span></dd>
        <dt>Slow disk</dt>
        <dd><span data-k="slow-disk">${formatCount(
          syncs.toPool,
        )}</span> times the syncs went to a thread for 10 s</dd>
      </dl>
    `,
  );
}

/** Registers the queues page. */
export function queuesRoutes(app: ConsoleApp, context: ConsoleContext): void {
  app.get("/queues", (c) => {
    const series = context.history.series();
    // One snapshot of the hub per page: its queue ages are a query per queue.
    const stats = hubOf(context)?.stats();
    const rates = liveRates(context.history, stats && countersOf(stats, context.sources));
    return render(
      c,
      context,
      {
        title: "Queues",
        section: "/queues",
        subtitle: "one durable queue per endpoint; a QoS 1 PUBACK means the message is in it",
      },
      live(
        "queues",
        "/queues",
        [
          card("Endpoint queues", queueTable(stats)),
          html`<div class="grid">${upstreamCard(context.sources.upstream.state(), stats, rates)}${
            storeDiskCard(stats, rates)
          }${
            card(
              "Depth, last hour",
              timeChart({
                id: "chart-queue-depth",
                title: "messages waiting",
                at: series.at,
                values: series.queueDepth,
                format: formatCount,
                now: Date.now(),
                windowMs: chartWindowMs(series.at, Date.now()),
              }),
            )
          }</div>`,
        ],
      ),
    );
  });
}
