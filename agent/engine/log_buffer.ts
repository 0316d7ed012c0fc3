/**
 * A bounded in-memory log: the last N lines of a process, each with its time, and listeners for
 * followers. Older lines fall off the front.
 */

/** One captured line. */
export interface LogLine {
  /** ms since the epoch. */
  time: number;
  text: string;
}

/** A bounded ring of lines. */
export interface LogBuffer {
  append(text: string, time?: number): void;
  /** Lines still held, oldest first. */
  lines(): LogLine[];
  /** Calls `listener` for every line appended from now on; returns the unsubscribe function. */
  subscribe(listener: (line: LogLine) => void): () => void;
}

/** Creates a buffer holding at most `maxLines` lines. */
export function createLogBuffer(maxLines: number): LogBuffer {
  if (!Number.isInteger(maxLines) || maxLines < 1) {
    throw new RangeError(
      `Cannot create a log buffer: maxLines must be a positive integer, got ${maxLines}`,
    );
  }
  const ring: LogLine[] = new Array(maxLines);
  let start = 0;
  let count = 0;
  const listeners = new Set<(line: LogLine) => void>();
  return {
    append(text, time = Date.now()) {
      const line = { time, text };
      ring[(start + count) % maxLines] = line;
      if (count < maxLines) count++;
      else start = (start + 1) % maxLines;
      for (const listener of listeners) listener(line);
    },
    lines() {
      return Array.from({ length: count }, (_, i) => ring[(start + i) % maxLines]!);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
