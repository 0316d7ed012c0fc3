import assert from "node:assert/strict";
import { demultiplex, frameBytes, jsonLines, type LogFrame } from "./docker_stream.ts";

function frame(stream: number, text: string): Uint8Array {
  const data = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + data.length);
  out[0] = stream;
  new DataView(out.buffer).setUint32(4, data.length);
  out.set(data, 8);
  return out;
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks);
}

async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  return await Array.fromAsync(stream);
}

Deno.test("demultiplex() decodes frames that span and share chunks", async () => {
  const bytes = new Uint8Array([...frame(1, "hello\n"), ...frame(2, "oops\n"), ...frame(1, "")]);
  // Cut at every position to prove frames survive any chunking.
  for (let cut = 1; cut < bytes.length; cut++) {
    const frames: LogFrame[] = await collect(
      streamOf([bytes.slice(0, cut), bytes.slice(cut)]).pipeThrough(demultiplex()),
    );
    const decoded = frames.map((f) => `${f.source}:${new TextDecoder().decode(f.data)}`);
    assert.deepEqual(decoded, ["stdout:hello\n", "stderr:oops\n", "stdout:"]);
  }
});

Deno.test("demultiplex() rejects a stream that is not multiplexed", async () => {
  const raw = new TextEncoder().encode("plain text from a TTY container\n");
  await assert.rejects(collect(streamOf([raw]).pipeThrough(demultiplex())), /bad frame header/);
});

Deno.test("demultiplex() rejects a cut frame at the end", async () => {
  const cut = frame(1, "hello").slice(0, 10);
  await assert.rejects(collect(streamOf([cut]).pipeThrough(demultiplex())), /cut frame/);
});

Deno.test("frameBytes() merges the outputs into one text", async () => {
  const text = await new Response(
    streamOf([frame(1, "a\n"), frame(2, "b\n")]).pipeThrough(demultiplex()).pipeThrough(
      frameBytes(),
    ),
  ).text();
  assert.equal(text, "a\nb\n");
});

Deno.test("jsonLines() parses newline-delimited JSON split anywhere", async () => {
  const text = '{"a":1}\n\n{"b":"x\\ny"}\n{"c":';
  const encoder = new TextEncoder();
  const chunks = [
    encoder.encode(text.slice(0, 5)),
    encoder.encode(text.slice(5)),
    encoder.encode("3}"),
  ];
  assert.deepEqual(await Array.fromAsync(jsonLines(streamOf(chunks))), [{ a: 1 }, { b: "x\ny" }, {
    c: 3,
  }]);
});
