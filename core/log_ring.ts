/**
 * The daemon's recent log records, kept in memory (bounded) so `ledge support-bundle` can read
 * them through the management API on machines without journald.
 */

/** A bounded ring of JSON log records. */
export interface LogRing {
  push(record: { time: string } & Record<string, unknown>): void;
  /** Records at or after `sinceMs` (Unix ms), oldest first, one JSON object per line. */
  since(sinceMs: number): string[];
}

/** Creates a ring that keeps the last `capacity` records. */
export function createLogRing(capacity = 10_000): LogRing {
  const lines: { timeMs: number; line: string }[] = [];
  let next = 0;
  return {
    push(record) {
      const entry = { timeMs: Date.parse(record.time), line: JSON.stringify(record) };
      if (lines.length < capacity) lines.push(entry);
      else lines[next] = entry;
      next = (next + 1) % capacity;
    },
    since(sinceMs) {
      const ordered = lines.length < capacity
        ? lines
        : [...lines.slice(next), ...lines.slice(0, next)];
      return ordered.filter((entry) => entry.timeMs >= sinceMs).map((entry) => entry.line);
    },
  };
}
