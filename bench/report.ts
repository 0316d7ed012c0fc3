/**
 * Turns measured {@linkcode Figure}s into the bench's outputs: a table, one JSON line per figure,
 * and BENCHMARKS.md.
 */
import type { Figure } from "./_figure.ts";

/** Min, median and max of `values`. */
export function summarize(values: readonly number[]): { min: number; median: number; max: number } {
  if (values.length === 0) return { min: NaN, median: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

function show(value: number): string {
  if (!Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString("en-US");
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** ledge's median over the reference's median, when there is a reference. */
export function ratio(figure: Figure): number | undefined {
  if (!figure.reference) return undefined;
  const ours = summarize(figure.values).median;
  const theirs = summarize(figure.reference.values).median;
  return theirs === 0 ? undefined : ours / theirs;
}

/**
 * The median of the rounds' own ratios, when the figure's runs are paired with the reference's:
 * on a machine whose speed drifts between rounds this follows the ratio more closely than the
 * ratio of the medians, which can take ledge's median from one phase and the reference's from
 * another.
 */
export function pairedRatio(figure: Figure): number | undefined {
  const reference = figure.reference;
  if (!reference?.paired || reference.values.length !== figure.values.length) return undefined;
  if (reference.values.some((value) => value === 0)) return undefined;
  return summarize(figure.values.map((value, i) => value / reference.values[i]!)).median;
}

/** One JSON object per figure, as printed on the JSON lines. */
export function figureRecord(figure: Figure): Record<string, unknown> {
  const stats = summarize(figure.values);
  const paired = pairedRatio(figure);
  return {
    group: figure.group,
    name: figure.name,
    unit: figure.unit,
    higherIsBetter: figure.higherIsBetter,
    runs: figure.values.length,
    ...stats,
    ...(figure.reference
      ? {
        reference: figure.reference.name,
        referenceMedian: summarize(figure.reference.values).median,
        ratio: ratio(figure),
        ...(paired === undefined ? {} : { pairedRatio: paired }),
      }
      : {}),
  };
}

/** The figures as rows of a text or markdown table. */
export function tableRows(figures: readonly Figure[]): string[][] {
  const header = ["group", "figure", "unit", "min", "median", "max", "reference (median)", "ratio"];
  const rows = figures.map((figure) => {
    const stats = summarize(figure.values);
    const r = ratio(figure);
    const paired = pairedRatio(figure);
    return [
      figure.group,
      figure.name,
      figure.unit,
      show(stats.min),
      show(stats.median),
      show(stats.max),
      figure.reference
        ? `${figure.reference.name}: ${show(summarize(figure.reference.values).median)}`
        : "",
      r === undefined
        ? ""
        : `${r.toFixed(2)}×${
          paired === undefined || figure.values.length < 2 ? "" : ` (paired ${paired.toFixed(2)}×)`
        }`,
    ];
  });
  return [header, ...rows];
}

/** Renders rows as an aligned text table. */
export function textTable(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd())
    .join("\n");
}

/** Renders rows as a markdown table. */
export function markdownTable(rows: readonly string[][]): string {
  const [header, ...body] = rows;
  const line = (row: readonly string[]) =>
    `| ${row.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(header!), line(header!.map(() => "---")), ...body.map(line)].join("\n");
}
