/**
 * How the console writes numbers, sizes and times: short, in the units people read.
 */

/** A whole count with thousands separators: `12,345`. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** A rate per second: `0`, `0.4/s`, `12/s`, `1,204/s`. */
export function formatRate(perSecond: number): string {
  if (perSecond <= 0) return "0/s";
  if (perSecond < 10) return `${perSecond.toFixed(1)}/s`;
  return `${formatCount(perSecond)}/s`;
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** A size in binary units: `0 B`, `812 B`, `1.4 MiB`, `37 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** A duration: `42 s`, `5 min 3 s`, `3 h 12 min`, `12 d 4 h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** A short time in milliseconds, to two significant figures below 10: `0.32 ms`, `4.5 ms`, `27 ms`. */
export function formatMilliseconds(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "\u2014";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  return `${formatCount(ms)} ms`;
}

/** A point in time as UTC, to the second: `2025-01-31 14:05:09 UTC`. */
export function formatTime(iso: string | number | Date): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "\u2014";
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** How long ago `iso` was, from `now`: `12 s ago`, or `-` for an unknown time. */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "\u2014";
  const at = new Date(iso).getTime();
  if (Number.isNaN(at) || at <= 0) return "\u2014";
  return `${formatDuration((now - at) / 1000)} ago`;
}

/** A duration in its largest unit only, for tiles: `42 s`, `7 min`, `5 h`, `12 d`. */
export function formatDurationShort(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}
