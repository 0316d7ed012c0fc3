/**
 * Message flow: the route table as a graph with live rates, each route's and endpoint's
 * counters, and what was dropped or refused (TTL, full queues, no route, too large).
 */
import type { HubStats } from "../../../hub/mod.ts";
import { DEFAULT_ROUTE_PRIORITY, type TableRoute } from "../../../routing/mod.ts";
import type { ConsoleContext } from "../context.ts";
import { type LiveRates, liveRates, readCounters } from "../counters.ts";
import { flowGraph, layoutFlow } from "../flow_graph.ts";
import { formatCount, formatRate } from "../format.ts";
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
  stat,
  table,
} from "../html.ts";
import { hubOf, render } from "./_shared.ts";

/** The WHERE clause of a route's text, or "" when it has none. */
export function whereClause(text: string): string {
  return /\bWHERE\b([\s\S]*)\bINTO\b/i.exec(text)?.[1]?.trim() ?? "";
}

function routeRows(routes: readonly TableRoute[], stats: HubStats, rates: LiveRates): Html {
  return table(
    [
      "Route",
      "From",
      "Where",
      "Into",
      numeric("Rate"),
      numeric("Routed"),
    ],
    routes.map((route) =>
      html`
        <tr data-route="${route.name}">
          <td><strong>${route.name}</strong><span class="hint">priority ${route.priority ===
              DEFAULT_ROUTE_PRIORITY
            ? "default"
            : route.priority} &middot; TTL ${route.timeToLiveSecs === 0
            ? "default"
            : `${formatCount(route.timeToLiveSecs)} s`}</span></td>
          <td class="mono">${breakable(route.source.text)}</td>
          <td class="mono">${whereClause(route.text) || "\u2014"}</td>
          <td class="mono">${breakable(route.endpointKey)}</td>
          <td class="num" data-k="rate">${formatRate(rates.byRoute[route.name] ?? 0)}</td>
          <td class="num" data-k="routed">${formatCount(
            stats.routedByRoute[route.name] ?? 0,
          )}</td>
        </tr>
      `
    ),
  );
}

function endpointRows(stats: HubStats, rates: LiveRates): Html {
  if (stats.queues.length === 0) return empty("No endpoint has received a message yet.");
  return table(
    [
      "Endpoint",
      numeric("In"),
      numeric("Out"),
      numeric("Queued"),
      numeric("TTL drops"),
      numeric("Refused (full)"),
    ],
    stats.queues.map((queue) =>
      html`
        <tr data-endpoint="${queue.endpoint}">
          <td class="mono">${breakable(queue.endpoint)}</td>
          <td class="num">${formatRate(rates.routedByEndpoint[queue.endpoint] ?? 0)}</td>
          <td class="num">${formatRate(rates.deliveredByEndpoint[queue.endpoint] ?? 0)}</td>
          <td class="num" data-k="depth">${formatCount(queue.count)}</td>
          <td class="num" data-k="expired">${formatCount(queue.dropped.expired)}</td>
          <td class="num" data-k="full">${formatCount(queue.dropped.full)}</td>
        </tr>
      `
    ),
  );
}

function flowBody(context: ConsoleContext): Html {
  const hub = hubOf(context);
  if (!hub) return notice("warn", "The hub is not running.");
  const stats = hub.stats();
  const routes = hub.routeTable().routes;
  const rates = liveRates(context.history, readCounters(context.sources));
  const expired = stats.queues.reduce((total, q) => total + q.dropped.expired, 0);
  const layout = layoutFlow(
    routes.map((route) => ({
      name: route.name,
      source: route.source.text,
      endpoint: route.endpointKey,
      rate: rates.byRoute[route.name] ?? 0,
    })),
    stats.queues.map((queue) => ({ key: queue.endpoint, depth: queue.count })),
  );
  return html`<div class="tiles">
${stat("messages in", formatRate(rates.received), { tone: "info" })}
${
    stat("dropped: TTL expired", formatCount(expired), {
      key: "ttl-drops",
      tone: expired > 0 ? "warn" : "ok",
    })
  }
${
    stat("refused: queue full", formatCount(stats.refusedFull), {
      key: "refused",
      tone: stats.refusedFull > 0 ? "error" : "ok",
    })
  }
${
    stat("no route", formatCount(stats.unrouted), {
      key: "unrouted",
      tone: stats.unrouted > 0 ? "warn" : "ok",
    })
  }
${
    stat("too large", formatCount(stats.tooLarge), {
      key: "too-large",
      tone: stats.tooLarge > 0 ? "warn" : "ok",
    })
  }
</div>
${
    card(
      "Routes",
      flowGraph(layout),
      html`<span class="aside">rates over the last ${Math.round(rates.seconds)} s</span>`,
    )
  }
${card("Route table", routes.length > 0 ? routeRows(routes, stats, rates) : empty("No routes."))}
${card("Endpoints", endpointRows(stats, rates))}`;
}

/** Registers the message-flow page. */
export function flowRoutes(app: ConsoleApp, context: ConsoleContext): void {
  app.get("/flow", (c) =>
    render(c, context, {
      title: "Message flow",
      section: "/flow",
      subtitle:
        "sources \u2192 routes \u2192 endpoints, as the deployment's $edgeHub declares them",
    }, live("flow", "/flow", flowBody(context), 3)));
}
