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
  // Grows with the lines a process writes: a quiet module holds none (a ring allocated at its
  // full size held 80 KB per module of 10,000 slots, most modules never fill).
  const ring: LogLine[] = [];
  let start = 0;
  const listeners = new Set<(line: LogLine) => void>();
  return {
    append(text, time = Date.now()) {
      const line = { time, text };
      if (ring.length < maxLines) ring.push(line);
      else {
        ring[start] = line;
        start = (start + 1) % maxLines;
      }
      for (const listener of listeners) listener(line);
    },
    lines() {
      return [...ring.slice(start), ...ring.slice(0, start)];
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
