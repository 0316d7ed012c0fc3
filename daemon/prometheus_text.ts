/**
 * The Prometheus text exposition format (version 0.0.4), written directly from metric families:
 * `# HELP`, `# TYPE`, one line per labelled sample. What a scrape needs and nothing more, so the
 * daemon does not keep a metrics library in memory.
 */
import type { MetricFamily, MetricSample } from "../core/metric_family.ts";

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
    if (!LABEL_NAME.test(label) || label.startsWith("__")) {
      throw new TypeError(`Cannot add metric "${family.name}": label "${label}" is not valid`);
    }
  }
}

function labelText(family: MetricFamily, sample: MetricSample): string {
  const names = family.labelNames ?? [];
  const labels = sample.labels ?? {};
  const pairs = names.filter((name) => labels[name] !== undefined).map((name) =>
    `${name}="${escapeLabelValue(labels[name]!)}"`
  );
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/**
 * The lines of one family. Samples with the same labels are one series: a counter's values add
 * up, a gauge keeps the last.
 */
export function familyText(family: MetricFamily): string {
  const series = new Map<string, number>();
  for (const sample of family.read()) {
    const labels = labelText(family, sample);
    const previous = series.get(labels);
    series.set(
      labels,
      family.type === "counter" && previous !== undefined ? previous + sample.value : sample.value,
    );
  }
  const lines = [
    `# HELP ${family.name} ${escapeHelp(family.help)}`,
    `# TYPE ${family.name} ${family.type}`,
  ];
  if (series.size === 0 && (family.labelNames ?? []).length === 0) series.set("", 0);
  for (const [labels, value] of series) {
    lines.push(`${family.name}${labels} ${formatSampleValue(value)}`);
  }
  return lines.join("\n") + "\n";
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
