/**
 * Installing an update: the signature is checked before anything is downloaded; the file is
 * written beside the executable while hashed, compared with the descriptor, its launcher header
 * checked, and run once (`version --json`, which also unpacks its runtime) before it is swapped
 * in with the trial marker. Any failure leaves the executable as it was.
 */
import { currentTarget, VERSION } from "../../core/version.ts";
import type { Logger } from "../../core/log.ts";
import { hashingStream, readLauncherHeader } from "./artifact_file.ts";
import { type Executable, swapIn } from "./executable.ts";
import { type ArtifactDescriptor, signatureProblem, type TrustedKey } from "./signature.ts";

/** An update that was not installed, and why (reported upward as it is). */
export class UpdateRefusedError extends Error {
  override name = "UpdateRefusedError";
}

/** What installing needs. */
export interface InstallContext {
  executable: Executable;
  trusted: readonly TrustedKey[];
  /** The marker's window: how long the new version has to confirm. */
  windowSeconds: number;
  logger: Logger;
  /** How long the trial run (`version`) may take (default 120 s: it unpacks the runtime). */
  preflightTimeoutMs?: number;
}

async function checkFacts(descriptor: ArtifactDescriptor, context: InstallContext): Promise<void> {
  if (descriptor.target !== currentTarget()) {
    throw new UpdateRefusedError(
      `it is built for ${descriptor.target}, this device is ${currentTarget()}`,
    );
  }
  if (descriptor.version === VERSION) {
    throw new UpdateRefusedError(`version ${VERSION} is already running`);
  }
  const problem = await signatureProblem(descriptor, context.trusted);
  if (problem) throw new UpdateRefusedError(problem);
}

async function download(
  artifact: ReadableStream<Uint8Array>,
  descriptor: ArtifactDescriptor,
  path: string,
): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o700 });
  const hashing = hashingStream();
  let seen = 0;
  const bounded = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.length;
      if (seen > descriptor.size) {
        throw new UpdateRefusedError(`the file is larger than the ${descriptor.size} bytes signed`);
      }
      controller.enqueue(chunk);
    },
  });
  await artifact.pipeThrough(bounded).pipeThrough(hashing.stream).pipeTo(file.writable);
  const { sha256, size } = hashing.digest();
  if (size !== descriptor.size || sha256 !== descriptor.sha256) {
    throw new UpdateRefusedError(
      `the file does not match its signature (sha256 ${sha256}, ${size} bytes; signed: ${descriptor.sha256}, ${descriptor.size} bytes)`,
    );
  }
  const synced = await Deno.open(path, { read: true, write: true });
  try {
    await synced.sync();
  } finally {
    synced.close();
  }
}

async function preflight(path: string, descriptor: ArtifactDescriptor, timeoutMs: number) {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(path, {
      args: ["version", "--json"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
  } catch (error) {
    throw new UpdateRefusedError(`it does not run: ${(error as Error).message}`);
  }
  const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").pop() ?? "";
  if (!output.success) {
    throw new UpdateRefusedError(`it does not run (exit ${output.code}): ${stderr}`);
  }
  let said: { ledge?: unknown; target?: unknown } = {};
  try {
    said = JSON.parse(new TextDecoder().decode(output.stdout));
  } catch { /* checked below */ }
  if (said.ledge !== descriptor.version || said.target !== descriptor.target) {
    throw new UpdateRefusedError(
      `it says it is ${String(said.ledge)} for ${
        String(said.target)
      }, signed as ${descriptor.version} for ${descriptor.target}`,
    );
  }
}

/**
 * Installs `artifact` as described by `descriptor`: on success the new file is in place, the
 * previous one kept, and the trial marker written; the caller restarts ledge.
 *
 * @throws {UpdateRefusedError} naming why nothing was installed.
 */
export async function installUpdate(
  artifact: ReadableStream<Uint8Array>,
  descriptor: ArtifactDescriptor,
  context: InstallContext,
): Promise<void> {
  try {
    await checkFacts(descriptor, context);
  } catch (error) {
    await artifact.cancel().catch(() => {});
    throw error;
  }
  const exe = context.executable.path;
  const candidate = `${exe}.download`;
  try {
    await download(artifact, descriptor, candidate);
    const header = await readLauncherHeader(candidate);
    if (
      header && (header.version !== descriptor.version || header.target !== descriptor.target)
    ) {
      throw new UpdateRefusedError(
        `its launcher says ${header.version} for ${header.target}, signed as ${descriptor.version} for ${descriptor.target}`,
      );
    }
    await preflight(candidate, descriptor, context.preflightTimeoutMs ?? 120_000);
    await swapIn(exe, candidate, {
      toVersion: descriptor.version,
      toSha256: header?.payloadSha256 ?? descriptor.sha256,
      fromVersion: VERSION,
      windowSeconds: context.windowSeconds,
      attempts: 0,
    });
    context.logger.info("update installed; restarting into it", {
      version: descriptor.version,
      previous: `${exe}.previous`,
    });
  } catch (error) {
    await Deno.remove(candidate).catch(() => {});
    if (error instanceof UpdateRefusedError) throw error;
    throw new UpdateRefusedError(`Cannot install it: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
