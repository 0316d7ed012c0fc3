/**
 * A module's log as Server-Sent Events: one `data:` event per line, an `end` event when the log
 * ends (the module's output closed), and nothing left running once the browser goes away.
 */

/** Splits text into lines (a trailing partial line is flushed at the end); drops `\r`. */
export function lineSplitter(): TransformStream<string, string> {
  let buffered = "";
  return new TransformStream({
    transform(chunk, controller) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) controller.enqueue(line.replace(/\r$/, ""));
    },
    flush(controller) {
      if (buffered !== "") controller.enqueue(buffered.replace(/\r$/, ""));
    },
  });
}

/** One SSE `data:` event per line, then `event: end` when the lines end. */
export function sseEvents(): TransformStream<string, string> {
  return new TransformStream({
    start(controller) {
      // Tells EventSource to wait 3 s before reconnecting after a dropped stream.
      controller.enqueue("retry: 3000\n\n");
    },
    transform(line, controller) {
      // A line holds no \n (split above) and no \r (dropped), so one data field carries it.
      controller.enqueue(`data: ${line}\n\n`);
    },
    flush(controller) {
      controller.enqueue("event: end\ndata: \n\n");
    },
  });
}

/** `logs` (UTF-8 bytes) as an SSE response body. */
export function logEventStream(logs: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return logs
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(lineSplitter())
    .pipeThrough(sseEvents())
    .pipeThrough(new TextEncoderStream());
}
