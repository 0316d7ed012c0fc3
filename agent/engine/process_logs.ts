/**
 * The logs of a process module: the lines its buffer holds (since a time, the last N), and with
 * `follow` the lines still to come, until the run ends or the reader goes away.
 */
import type { LogOptions } from "./driver.ts";
import type { LogLine } from "./log_buffer.ts";
import type { ProcessEntry } from "./process_run.ts";

/** The module's output as text bytes, as {@linkcode EngineDriver.logs} gives it. */
export function processLogStream(
  entry: ProcessEntry,
  opts: LogOptions,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const format = (line: LogLine) =>
    encoder.encode(
      `${opts.timestamps ? `${new Date(line.time).toISOString()} ` : ""}${line.text}\n`,
    );
  let lines = entry.log.lines();
  if (opts.since !== undefined) lines = lines.filter((l) => l.time >= opts.since! * 1000);
  if (opts.tail !== undefined) lines = opts.tail === 0 ? [] : lines.slice(-opts.tail);
  const following = opts.follow && entry.child !== undefined;
  let cleanup = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const line of lines) controller.enqueue(format(line));
      if (!following) return controller.close();
      const finish = () => {
        cleanup();
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      const unsubscribe = entry.log.subscribe((line) => controller.enqueue(format(line)));
      const onAbort = () => finish();
      entry.runEnded.add(finish);
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      cleanup = () => {
        unsubscribe();
        entry.runEnded.delete(finish);
        opts.signal?.removeEventListener("abort", onAbort);
      };
    },
    cancel() {
      cleanup();
    },
  });
}
