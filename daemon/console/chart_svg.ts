/**
 * Time-series charts drawn on the server as SVG: an area under a line over a fixed window (the
 * last hour), a light grid, the latest value and the peak. No script, nothing to load.
 */
import { type Html, html, raw } from "./html.ts";

/**
 * The window a chart spans: the last hour, or since the first sample when the daemon is younger
 * (at least 5 minutes, in whole 5 minutes), so a young device's chart is not a sliver at the edge.
 */
export function chartWindowMs(at: readonly number[], now: number): number {
  const first = at[0];
  if (first === undefined) return 3600_000;
  const step = 300_000;
  return Math.min(3600_000, Math.max(step, Math.ceil((now - first) / step) * step));
}

/** One chart. */
export interface ChartOptions {
  title: string;
  /** ms since the epoch, oldest first. */
  at: readonly number[];
  values: readonly number[];
  /** Formats a value for the labels. */
  format: (value: number) => string;
  /** The end of the window (ms); defaults to the last sample. */
  now?: number;
  /** The window's length; default one hour (see {@linkcode chartWindowMs}). */
  windowMs?: number;
  /** A stable id (for tests and links). */
  id: string;
}

const WIDTH = 600;
const HEIGHT = 150;
const PAD = { left: 8, right: 8, top: 12, bottom: 20 };

/** A round upper bound for the y axis: 1, 2, 5 x 10^n at or above `max`. */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= max) return step * power;
  }
  return 10 * power;
}

/** The SVG path of the points, and the area under them. */
export function chartPaths(
  points: readonly { x: number; y: number }[],
  baseline: number,
): { line: string; area: string } {
  if (points.length === 0) return { line: "", area: "" };
  const coordinates = points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`);
  const line = `M${coordinates.join("L")}`;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const area = `${line}L${last.x.toFixed(1)},${baseline}L${first.x.toFixed(1)},${baseline}Z`;
  return { line, area };
}

/** A chart of `values` over the window ending at `now`. */
export function timeChart(options: ChartOptions): Html {
  const windowMs = options.windowMs ?? 3600_000;
  const now = options.now ?? options.at[options.at.length - 1] ?? Date.now();
  const start = now - windowMs;
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const baseline = PAD.top + plotHeight;
  const visible = options.at.map((at, i) => ({ at, value: options.values[i]! }))
    .filter((p) => p.at >= start && p.at <= now);
  const peak = Math.max(0, ...visible.map((p) => p.value));
  const top = niceCeiling(peak);
  const points = visible.map((p) => ({
    x: PAD.left + ((p.at - start) / windowMs) * plotWidth,
    y: baseline - (p.value / top) * plotHeight,
  }));
  const { line, area } = chartPaths(points, baseline);
  const latest = visible[visible.length - 1];
  const grid = [0.25, 0.5, 0.75].map((f) => {
    const y = (PAD.top + plotHeight * (1 - f)).toFixed(1);
    return raw(
      `<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y}" y2="${y}"/>`,
    );
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const x = PAD.left + plotWidth * f;
    const minutes = Math.round((windowMs * (1 - f)) / 60_000);
    const anchor = f === 0 ? "start" : f === 1 ? "end" : "middle";
    return html`<text class="tick" x="${x.toFixed(1)}" y="${HEIGHT - 5}" text-anchor="${anchor}">${
      f === 1 ? "now" : `\u2212${minutes} min`
    }</text>`;
  });
  const summary = latest
    ? `${options.title}: now ${options.format(latest.value)}, peak ${options.format(peak)}`
    : `${options.title}: no samples yet`;
  return html`<figure class="chart" id="${options.id}">
<figcaption><span>${options.title}</span><strong data-k="${options.id}:latest">${
    latest ? options.format(latest.value) : "\u2014"
  }</strong></figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${summary}">
<title>${summary}</title>
${grid}
<line class="axis" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${baseline}" y2="${baseline}"/>
${
    area
      ? html`
        <path class="area" d="${area}" />
        <path class="line" d="${line}" />
      `
      : ""
  }
<text class="tick" x="${WIDTH - PAD.right}" y="${PAD.top - 2}" text-anchor="end">${
    options.format(top)
  }</text>
${ticks}
</svg>
${
    visible.length === 0
      ? html`<p class="empty">Samples every 10 s; the first appear shortly.</p>`
      : ""
  }
</figure>`;
}
