/**
 * Facts about an executable file: its sha256 and size (streamed, never held whole), and what the
 * self-extracting launcher's header says (scripts/launcher.sh: version, target, payload checksum).
 */
import { createHash } from "node:crypto";

/** sha256 (hex) and size of a byte stream. */
export interface Digest {
  sha256: string;
  size: number;
}

/** A stream that passes bytes through and hashes them; `digest()` once it has ended. */
export function hashingStream(): {
  stream: TransformStream<Uint8Array, Uint8Array>;
  digest(): Digest;
} {
  const hash = createHash("sha256");
  let size = 0;
  let result: Digest | undefined;
  return {
    stream: new TransformStream({
      transform(chunk, controller) {
        hash.update(chunk);
        size += chunk.length;
        controller.enqueue(chunk);
      },
    }),
    digest() {
      result ??= { sha256: hash.digest("hex"), size };
      return result;
    },
  };
}

/** sha256 and size of the file at `path`. */
export async function digestFile(path: string): Promise<Digest> {
  const file = await Deno.open(path);
  const hashing = hashingStream();
  await file.readable.pipeThrough(hashing.stream).pipeTo(new WritableStream());
  return hashing.digest();
}

/** What the launcher of a self-extracting executable says about it. */
export interface LauncherHeader {
  version: string;
  target: string;
  /** sha256 of the payload: names its runtime dir, and the update marker's `to_sha256`. */
  payloadSha256: string;
}

/** The launcher header of the file at `path`, or undefined when it has none (a compiled binary). */
export async function readLauncherHeader(path: string): Promise<LauncherHeader | undefined> {
  const file = await Deno.open(path);
  try {
    const buffer = new Uint8Array(4096);
    const read = await file.read(buffer) ?? 0;
    const text = new TextDecoder().decode(buffer.subarray(0, read));
    if (!text.startsWith("#!/bin/sh\n")) return undefined;
    const field = (name: string) => new RegExp(`^${name}="([^"\\n]*)"$`, "m").exec(text)?.[1];
    const version = field("LEDGE_VERSION");
    const target = field("LEDGE_TARGET");
    const payloadSha256 = field("LEDGE_PAYLOAD_SHA256");
    if (!version || !target || !payloadSha256) return undefined;
    return { version, target, payloadSha256 };
  } finally {
    file.close();
  }
}
