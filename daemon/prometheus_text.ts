/**
 * The Prometheus text exposition format (version 0.0.4), written directly from metric families:
 * `# HELP`, `# TYPE`, one line per labelled sample. What a scrape needs and nothing more, so the
 * daemon does not keep a metrics library in memory.
 */
import type { HistogramFamily, MetricFamily, ScalarFamily } from "../core/metric_family.ts";

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabelValue(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

/** A sample value as Prometheus writes it (`+Inf`, `-Inf`, `NaN`, else the shortest decimal). */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Throws a TypeError naming a family whose name or label names Prometheus would refuse. */
export function checkFamily(family: MetricFamily): void {
  if (!METRIC_NAME.test(family.name)) {
    throw new TypeError(`Cannot add metric "${family.name}": not a Prometheus metric name`);
  }
  for (const label of family.labelNames ?? []) {
    const reserved = label.startsWith("__") || (family.type === "histogram" && label === "le");
    if (!LABEL_NAME.test(label) || reserved) {
      throw new TypeError(`Cannot add metric "${family.name}": label "${label}" is not valid`);
    }
  }
}

/** The label pairs of a sample, in the family's order, without braces (`a="x",b="y"`). */
function labelPairs(family: MetricFamily, labels: Record<string, string> = {}): string[] {
  const names = family.labelNames ?? [];
  return names.filter((name) => labels[name] !== undefined).map((name) =>
    `${name}="${escapeLabelValue(labels[name]!)}"`
  );
}

function braced(pairs: readonly string[]): string {
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/** The lines of one family: its HELP and TYPE, then its series. */
export function familyText(family: MetricFamily): string {
  const lines = [
    `# HELP ${family.name} ${escapeHelp(family.help)}`,
    `# TYPE ${family.name} ${family.type}`,
  ];
  if (family.type === "histogram") histogramLines(family, lines);
  else scalarLines(family, lines);
  return lines.join("\n") + "\n";
}

/** Samples with the same labels are one series: a counter's values add up, a gauge keeps the last. */
function scalarLines(family: ScalarFamily, lines: string[]): void {
  const series = new Map<string, number>();
  for (const sample of family.read()) {
    const labels = braced(labelPairs(family, sample.labels));
    const previous = series.get(labels);
    series.set(
      labels,
      family.type === "counter" && previous !== undefined ? previous + sample.value : sample.value,
    );
  }
  if (series.size === 0 && (family.labelNames ?? []).length === 0) series.set("", 0);
  for (const [labels, value] of series) {
    lines.push(`${family.name}${labels} ${formatSampleValue(value)}`);
  }
}

/** Each sample's cumulative buckets (`le`), the +Inf bucket, its sum and its count. */
function histogramLines(family: HistogramFamily, lines: string[]): void {
  const { name } = family;
  for (const { labels, histogram } of family.read()) {
    const pairs = labelPairs(family, labels);
    const bucket = (le: string, count: number) =>
      lines.push(`${name}_bucket${braced([...pairs, `le="${le}"`])} ${formatSampleValue(count)}`);
    histogram.bounds.forEach((bound, i) => bucket(String(bound), histogram.cumulative[i]!));
    bucket("+Inf", histogram.count);
    lines.push(`${name}_sum${braced(pairs)} ${formatSampleValue(histogram.sum)}`);
    lines.push(`${name}_count${braced(pairs)} ${formatSampleValue(histogram.count)}`);
  }
}

/** The exposition text of `families`, in order; a family that fails to read is left out. */
export function prometheusText(
  families: Iterable<MetricFamily>,
  onError: (family: MetricFamily, error: unknown) => void = () => {},
): string {
  const parts: string[] = [];
  for (const family of families) {
    try {
      parts.push(familyText(family));
    } catch (error) {
      onError(family, error);
    }
  }
  return parts.join("\n");
}
