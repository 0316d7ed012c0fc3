/**
 * Loads an image archive (`docker save` / `podman save`, docker-archive or OCI archive) into the
 * engine through its API (`POST /images/load`), for devices with no registry in reach.
 */
import { z } from "zod";
import { DOCKER_API_VERSION } from "./docker_driver.ts";
import { jsonLines } from "./docker_stream.ts";
import { EngineError, EngineUnavailableError } from "./driver.ts";

/** How far a load is: bytes sent of the archive, and the engine's own messages. */
export interface ImageLoadProgress {
  sentBytes: number;
  /** The archive's size, when known. */
  totalBytes?: number;
  /** A message of the engine ("Loading layer", ...), when the progress came from it. */
  status?: string;
}

/** Options for {@linkcode loadImageArchive}. */
export interface ImageLoadOptions {
  /** The archive's size in bytes (for progress). */
  sizeBytes?: number;
  onProgress?: (progress: ImageLoadProgress) => void;
  signal?: AbortSignal;
}

const LoadLine = z.object({
  stream: z.string().optional(),
  status: z.string().optional(),
  error: z.string().optional(),
  errorDetail: z.object({ message: z.string().optional() }).optional(),
});

/** Image names and IDs from the engine's "Loaded image: ..." / "Loaded image ID: ..." lines. */
export function loadedImages(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(/^Loaded image(?: ID)?s?: (.+)$/gm)) {
    for (const name of match[1]!.split(",")) {
      const trimmed = name.trim();
      if (trimmed !== "" && !names.includes(trimmed)) names.push(trimmed);
    }
  }
  return names;
}

function counting(
  options: ImageLoadOptions,
): TransformStream<Uint8Array, Uint8Array> {
  let sentBytes = 0;
  return new TransformStream({
    transform(chunk, controller) {
      sentBytes += chunk.length;
      options.onProgress?.({
        sentBytes,
        ...(options.sizeBytes !== undefined ? { totalBytes: options.sizeBytes } : {}),
      });
      controller.enqueue(chunk);
    },
  });
}

/**
 * Streams `archive` to the engine at `socketPath`; resolves with the loaded images' names.
 *
 * @throws {EngineUnavailableError} when the engine cannot be reached.
 * @throws {EngineError} when the engine refuses the archive (with its message).
 * @example
 * ```ts
 * const file = await Deno.open("sensor.tar");
 * const names = await loadImageArchive("/run/podman/podman.sock", file.readable);
 * ```
 */
export async function loadImageArchive(
  socketPath: string,
  archive: ReadableStream<Uint8Array>,
  options: ImageLoadOptions = {},
): Promise<string[]> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  try {
    let response: Response;
    try {
      response = await fetch(`http://engine/v${DOCKER_API_VERSION}/images/load?quiet=0`, {
        method: "POST",
        client,
        headers: { "content-type": "application/x-tar" },
        body: archive.pipeThrough(counting(options)),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new EngineUnavailableError(
        `Cannot load the image archive: the engine at ${socketPath} is unreachable (${reason})`,
        { cause: error },
      );
    }
    if (!response.ok) {
      const text = (await response.text().catch(() => "")).trim();
      let message = text || `HTTP ${response.status}`;
      try {
        message = z.object({ message: z.string() }).parse(JSON.parse(text)).message;
      } catch {
        // not a JSON error body: keep the text
      }
      throw new EngineError(`Cannot load the image archive: ${message}`, response.status);
    }
    let said = "";
    if (response.body) {
      for await (const raw of jsonLines(response.body)) {
        const line = LoadLine.safeParse(raw);
        if (!line.success) continue;
        const error = line.data.error ?? line.data.errorDetail?.message;
        if (error) throw new EngineError(`Cannot load the image archive: ${error}`, 500);
        if (line.data.stream) said += line.data.stream;
        if (line.data.status) {
          options.onProgress?.({
            sentBytes: options.sizeBytes ?? 0,
            ...(options.sizeBytes !== undefined ? { totalBytes: options.sizeBytes } : {}),
            status: line.data.status,
          });
        }
      }
    }
    const names = loadedImages(said);
    if (names.length === 0) {
      throw new EngineError(
        `Cannot load the image archive: the engine loaded no image (it said: ${
          said.trim() || "nothing"
        })`,
        500,
      );
    }
    return names;
  } finally {
    client.close();
  }
}
