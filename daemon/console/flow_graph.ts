/**
 * The route table drawn as a graph: sources (FROM) -> routes -> endpoints (INTO), laid out in
 * three columns, with the live rate on each route and the queue depth on each endpoint.
 */
import { formatCount, formatRate } from "./format.ts";
import { type Html, html } from "./html.ts";

/** A route as the graph needs it. */
export interface FlowRoute {
  name: string;
  source: string;
  endpoint: string;
  /** Messages per second over the last interval. */
  rate: number;
}

/** An endpoint with its queue. */
export interface FlowEndpoint {
  key: string;
  depth: number;
}

/** Where each node sits, and which edges join them. */
export interface FlowLayout {
  width: number;
  height: number;
  sources: { label: string; title: string; y: number }[];
  routes: { route: FlowRoute; y: number }[];
  endpoints: { label: string; title: string; depth: number; y: number }[];
  edges: { from: { x: number; y: number }; to: { x: number; y: number }; active: boolean }[];
}

const ROW = 44;
const NODE = { width: 250, height: 32 };
const COLUMNS = { source: 10, route: 355, endpoint: 700 };
const WIDTH = 960;

/** A short name for a route source: `sensor > temperature`, `all messages`, ... */
export function sourceLabel(source: string): string {
  const path = source.replace(/\/\*$/, "").replace(/\/$/, "");
  const known: Record<string, string> = {
    "": "everything",
    "/messages": "all messages",
    "/messages/events": "leaf devices",
    "/messages/modules": "all modules",
    "/twinchangenotifications": "twin changes",
  };
  const plain = known[path.toLowerCase()];
  if (plain) return plain;
  const module = /^\/messages\/modules\/([^/]+)(?:\/outputs(?:\/([^/]+))?)?$/i.exec(path);
  if (module) {
    return module[2] ? `${module[1]} \u203a ${module[2]}` : `${module[1]} \u203a any output`;
  }
  return source;
}

/** A short name for an endpoint: `$upstream`, `filter > input1`. */
export function endpointLabel(key: string): string {
  const module = /^\/modules\/([^/]+)\/inputs\/([^/]+)$/.exec(key);
  return module ? `${module[1]} \u203a ${module[2]}` : key;
}

/** Space above the first row, for the column headings. */
const HEAD = 22;

function column(count: number, rows: number): (i: number) => number {
  const top = HEAD + ((rows - count) * ROW) / 2;
  return (i) => top + i * ROW + ROW / 2;
}

/** Lays out `routes`: each column in first-seen order, vertically centred. */
export function layoutFlow(
  routes: readonly FlowRoute[],
  endpoints: readonly FlowEndpoint[],
): FlowLayout {
  const sources = [...new Set(routes.map((route) => route.source))];
  const ordered = [...routes].sort((a, b) => sources.indexOf(a.source) - sources.indexOf(b.source));
  const endpointKeys = [...new Set(ordered.map((route) => route.endpoint))];
  const depth = new Map(endpoints.map((endpoint) => [endpoint.key, endpoint.depth]));
  const rows = Math.max(sources.length, ordered.length, endpointKeys.length, 1);
  const height = HEAD + rows * ROW + 6;
  const sourceY = column(sources.length, rows);
  const routeY = column(ordered.length, rows);
  const endpointY = column(endpointKeys.length, rows);
  const edges: FlowLayout["edges"] = [];
  ordered.forEach((route, i) => {
    const active = route.rate > 0;
    const y = routeY(i);
    edges.push({
      from: { x: COLUMNS.source + NODE.width, y: sourceY(sources.indexOf(route.source)) },
      to: { x: COLUMNS.route, y },
      active,
    });
    edges.push({
      from: { x: COLUMNS.route + NODE.width, y },
      to: { x: COLUMNS.endpoint, y: endpointY(endpointKeys.indexOf(route.endpoint)) },
      active,
    });
  });
  return {
    width: WIDTH,
    height,
    sources: sources.map((source, i) => ({
      label: sourceLabel(source),
      title: source,
      y: sourceY(i),
    })),
    routes: ordered.map((route, i) => ({ route, y: routeY(i) })),
    endpoints: endpointKeys.map((key, i) => ({
      label: endpointLabel(key),
      title: key,
      depth: depth.get(key) ?? 0,
      y: endpointY(i),
    })),
    edges,
  };
}

function clip(text: string, max = 30): string {
  return text.length > max ? `${text.slice(0, max - 1)}\u2026` : text;
}

function node(
  x: number,
  y: number,
  kind: string,
  title: string,
  label: string,
  detail: Html | string,
): Html {
  const top = (y - NODE.height / 2).toFixed(1);
  return html`
    <g class="node ${kind}">
      <title>${title}</title>
      <rect x="${x}" y="${top}" width="${NODE.width}" height="${NODE.height}" rx="6" />
      <text x="${x + 10}" y="${(y + 4).toFixed(1)}">${clip(label)}</text>
      <text class="detail" x="${x + NODE.width - 10}" y="${(y + 4).toFixed(
        1,
      )}" text-anchor="end">${detail}</text>
    </g>
  `;
}

/** The graph as inline SVG. */
export function flowGraph(layout: FlowLayout): Html {
  if (layout.routes.length === 0) {
    return html`<p class="empty">No routes: the deployment's <code>$edgeHub</code> declares none.</p>`;
  }
  const edges = layout.edges.map((edge) => {
    const middle = (edge.from.x + edge.to.x) / 2;
    const d = `M${edge.from.x},${edge.from.y.toFixed(1)} C${middle},${
      edge.from.y.toFixed(1)
    } ${middle},${edge.to.y.toFixed(1)} ${edge.to.x},${edge.to.y.toFixed(1)}`;
    return html`
      <path class="edge ${edge.active ? "active" : ""}" d="${d}" />
    `;
  });
  return html`<svg class="flow" viewBox="0 0 ${layout.width} ${layout.height}" role="img" aria-label="route graph">
<text class="colhead" x="${COLUMNS.source}" y="14">FROM</text>
<text class="colhead" x="${COLUMNS.route}" y="14">ROUTE</text>
<text class="colhead" x="${COLUMNS.endpoint}" y="14">INTO</text>
${edges}
${layout.sources.map((s) => node(COLUMNS.source, s.y, "source", s.title, s.label, ""))}
${
    layout.routes.map(({ route, y }) =>
      node(
        COLUMNS.route,
        y,
        route.rate > 0 ? "route active" : "route",
        `${route.name}`,
        route.name,
        formatRate(route.rate),
      )
    )
  }
${
    layout.endpoints.map((e) =>
      node(
        COLUMNS.endpoint,
        e.y,
        e.depth > 0 ? "endpoint queued" : "endpoint",
        e.title,
        e.label,
        `${formatCount(e.depth)} queued`,
      )
    )
  }
</svg>`;
}
