/**
 * `ledge image load <file.tar>`: loads a `docker save` / `podman save` archive (docker-archive, or
 * an OCI archive where the engine reads one) into the engine the agent uses, through the engine's
 * API, with progress on stderr. For devices with no registry in reach; a module then runs it with
 * `imagePullPolicy: "never"`.
 */
import { Command } from "commander";
import { findEngineSocket, loadImageArchive } from "../agent/mod.ts";
import { configFor, ExitError, out, printJson } from "./_shared.ts";

interface LoadOptions {
  json?: boolean;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Writes progress on stderr: in place on a terminal, else a line every 25 %. */
function progressPrinter(file: string, sizeBytes: number): (sentBytes: number) => void {
  const terminal = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let lastQuarter = -1;
  let lastDraw = 0;
  return (sentBytes) => {
    const percent = sizeBytes > 0 ? Math.floor((sentBytes / sizeBytes) * 100) : 100;
    const text = `loading ${file}: ${percent}% (${megabytes(sentBytes)} of ${
      megabytes(sizeBytes)
    })`;
    if (terminal) {
      const now = Date.now();
      if (now - lastDraw < 100 && sentBytes < sizeBytes) return;
      lastDraw = now;
      Deno.stderr.writeSync(encoder.encode(`\r${text}${sentBytes >= sizeBytes ? "\n" : ""}`));
    } else if (Math.floor(percent / 25) > lastQuarter) {
      lastQuarter = Math.floor(percent / 25);
      Deno.stderr.writeSync(encoder.encode(`${text}\n`));
    }
  };
}

async function load(file: string, options: LoadOptions, command: Command): Promise<void> {
  const config = await configFor(command);
  const socket = await findEngineSocket(config.agent, Deno.env.toObject());
  if (!socket) {
    throw new ExitError(
      1,
      `Cannot load ${file}: no container engine (agent.engine is "${config.agent.engine}" and no engine socket was found)`,
    );
  }
  let archive: Deno.FsFile;
  try {
    archive = await Deno.open(file);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ExitError(1, `Cannot load ${file}: ${reason}`);
  }
  const sizeBytes = (await archive.stat()).size;
  const progress = progressPrinter(file, sizeBytes);
  let images: string[];
  try {
    images = await loadImageArchive(socket, archive.readable, {
      sizeBytes,
      onProgress: (p) => p.status === undefined && progress(p.sentBytes),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // Docker before 25 reads docker-archive only, and says so obscurely.
    const hint = /blobs\/json/.test(reason)
      ? " (this looks like an OCI archive, which this engine cannot load: save the image with --format docker-archive)"
      : "";
    throw new ExitError(
      1,
      `${reason.replace(/^Cannot load the image archive/, `Cannot load ${file}`)}${hint}`,
    );
  }
  if (options.json) printJson({ file, engine: socket, images });
  else for (const image of images) out(`loaded ${image}`);
}

/** Builds the `image` verb (`image load`). */
export function imageCommand(): Command {
  return new Command("image")
    .description("container images on this device's engine")
    .addCommand(
      new Command("load")
        .description("load a docker save / OCI archive into the engine (no registry needed)")
        .argument("<file>", "the image archive (.tar)")
        .option("--json", "print the loaded images as JSON")
        .action(load),
    );
}
