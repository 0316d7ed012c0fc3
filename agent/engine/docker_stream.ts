/**
 * Byte streams of the Docker Engine API: the multiplexed log stream (8-byte frame headers
 * `[stream, 0, 0, 0, size (big-endian u32)]`) and newline-delimited JSON (events, pull progress).
 */

/** Which output a log frame came from. */
export type LogSource = "stdin" | "stdout" | "stderr";

/** One frame of a multiplexed log stream. */
export interface LogFrame {
  source: LogSource;
  data: Uint8Array;
}

const SOURCES: Record<number, LogSource> = { 0: "stdin", 1: "stdout", 2: "stderr" };

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Splits a multiplexed stream into frames; frames may span chunks and chunks may hold many.
 *
 * @throws {TypeError} (through the stream) on a header whose stream byte is not 0, 1 or 2.
 */
export function demultiplex(): TransformStream<Uint8Array, LogFrame> {
  let pending: Uint8Array = new Uint8Array(0);
  return new TransformStream({
    transform(chunk, controller) {
      pending = concat(pending, chunk);
      while (pending.length >= 8) {
        const source = SOURCES[pending[0]!];
        if (source === undefined || pending[1] !== 0 || pending[2] !== 0 || pending[3] !== 0) {
          throw new TypeError(
            `Cannot decode the log stream: bad frame header byte ${
              pending[0]
            } (expected 0, 1 or 2)`,
          );
        }
        const size = new DataView(pending.buffer, pending.byteOffset, 8).getUint32(4);
        if (pending.length < 8 + size) break;
        controller.enqueue({ source, data: pending.slice(8, 8 + size) });
        pending = pending.slice(8 + size);
      }
    },
    flush() {
      if (pending.length > 0) {
        throw new TypeError(`Cannot decode the log stream: ${pending.length} bytes of a cut frame`);
      }
    },
  });
}

/** A stream of frames as one stream of their bytes (stdout and stderr merged). */
export function frameBytes(): TransformStream<LogFrame, Uint8Array> {
  return new TransformStream({ transform: (frame, controller) => controller.enqueue(frame.data) });
}

/** Splits text bytes into lines (without the newline); a last line without newline is kept. */
export function splitLines(): TransformStream<Uint8Array, string> {
  const decoder = new TextDecoder();
  let pending = "";
  return new TransformStream({
    transform(chunk, controller) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) controller.enqueue(line);
    },
    flush(controller) {
      pending += decoder.decode();
      if (pending !== "") controller.enqueue(pending);
    },
  });
}

/** Parses newline-delimited JSON values; blank lines are skipped. */
export async function* jsonLines(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<unknown, void, undefined> {
  for await (const line of body.pipeThrough(splitLines())) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    yield JSON.parse(trimmed);
  }
}
