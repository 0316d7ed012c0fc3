/**
 * `ledge update`: self-update of the release executable.
 *
 *   ledge update <file> [--signature F]     install a signed executable here, then restart
 *   ledge update status [--json]            the running version and the last update
 *   ledge update keygen --out PREFIX        a signing key pair (PREFIX.key, PREFIX.pub)
 *   ledge update sign <file> --key K        write <file>.sig (the signed descriptor)
 *   ledge update publish <file>             serve it to the devices below this parent
 *   ledge update list [--json]              what this parent serves
 */
import { Command, Option } from "commander";
import {
  type ArtifactDescriptor,
  DESCRIPTOR_HEADER,
  digestFile,
  generateSigningKey,
  readLauncherHeader,
  signArtifact,
} from "../daemon/mod.ts";
import { answer } from "./_client.ts";
import { ExitError, out, printJson, printTable, UsageError, withDaemon } from "./_shared.ts";

async function readDescriptor(file: string, signature: string | undefined): Promise<string> {
  const path = signature ?? `${file}.sig`;
  try {
    return btoa(await Deno.readTextFile(path));
  } catch (error) {
    throw new ExitError(1, `Cannot read the signature ${path}: ${(error as Error).message}`);
  }
}

/** The request of a file upload: the file as the body, its signed descriptor in a header. */
function upload(stream: ReadableStream<Uint8Array>, descriptor: string): RequestInit {
  return { body: stream, headers: { [DESCRIPTOR_HEADER]: descriptor } };
}

async function openFile(file: string): Promise<ReadableStream<Uint8Array>> {
  try {
    return (await Deno.open(file)).readable;
  } catch (error) {
    throw new ExitError(1, `Cannot read ${file}: ${(error as Error).message}`);
  }
}

async function install(file: string, options: { signature?: string }, command: Command) {
  const descriptor = await readDescriptor(file, options.signature);
  const stream = await openFile(file);
  const result = await withDaemon(
    command,
    (client) => answer(client.update.v1.update.$post({}, { init: upload(stream, descriptor) })),
  );
  out(`installed ${result.version}; ledge is restarting into it (see ledge update status)`);
}

function statusCommand(): Command {
  return new Command("status")
    .description("the running version and the last update's outcome")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const status = await withDaemon(command, (client) => answer(client.update.v1.update.$get()));
      if (options.json) return printJson(status);
      out(`ledge ${status.version} (${status.target}), ${status.executable}`);
      const last = status.lastUpdate;
      if (!last) return out("no update yet");
      out(
        `last update: ${last.version} ${last.result} at ${last.at}${
          last.reason ? `: ${last.reason}` : ""
        }`,
      );
    });
}

function keygenCommand(): Command {
  return new Command("keygen")
    .description("make a key pair to sign updates with (PREFIX.key private, PREFIX.pub public)")
    .requiredOption("--out <prefix>", "path prefix of the two files")
    .addOption(
      new Option("--algorithm <name>", "signature algorithm").choices(["ecdsa-p256", "ed25519"])
        .default("ecdsa-p256"),
    )
    .action(async (options: { out: string; algorithm: string }) => {
      const pair = await generateSigningKey(
        options.algorithm === "ed25519" ? "Ed25519" : "ECDSA-P256-SHA256",
      );
      try {
        await Deno.writeTextFile(`${options.out}.key`, pair.privateKeyPem, {
          mode: 0o600,
          createNew: true,
        });
        await Deno.writeTextFile(`${options.out}.pub`, pair.publicKeyPem, { mode: 0o644 });
      } catch (error) {
        throw new ExitError(1, `Cannot write ${options.out}.key/.pub: ${(error as Error).message}`);
      }
      out(
        `wrote ${options.out}.key (keep it secret) and ${options.out}.pub (key ${pair.keyId}: put it in the devices' [update] trusted_keys)`,
      );
    });
}

function signCommand(): Command {
  return new Command("sign")
    .description("sign a release executable: writes <file>.sig")
    .argument("<file>", "the executable (dist/ledge-<arch>-linux)")
    .requiredOption("--key <file>", "the private key (ledge update keygen)")
    .option("--version <version>", "its version (read from a self-extracting file when not given)")
    .option("--target <triple>", "its target, e.g. aarch64-unknown-linux-gnu (likewise)")
    .option("--out <file>", "where to write the signature (default <file>.sig)")
    .action(
      async (
        file: string,
        options: { key: string; version?: string; target?: string; out?: string },
      ) => {
        const header = await readLauncherHeader(file).catch((error) => {
          throw new ExitError(1, `Cannot read ${file}: ${(error as Error).message}`);
        });
        const version = options.version ?? header?.version;
        const target = options.target ?? header?.target;
        if (!version || !target) {
          throw new UsageError(
            `${file} is not a self-extracting executable: give --version and --target`,
          );
        }
        const { sha256, size } = await digestFile(file);
        let descriptor: ArtifactDescriptor;
        try {
          descriptor = await signArtifact(
            { version, target, sha256, size },
            await Deno.readTextFile(options.key),
          );
        } catch (error) {
          throw new ExitError(1, `Cannot sign with ${options.key}: ${(error as Error).message}`);
        }
        const path = options.out ?? `${file}.sig`;
        await Deno.writeTextFile(path, JSON.stringify(descriptor, null, 2) + "\n");
        out(`wrote ${path}: ${version} for ${target}, sha256 ${sha256}, key ${descriptor.keyId}`);
      },
    );
}

function publishCommand(): Command {
  return new Command("publish")
    .description("serve a signed executable to the devices below this parent")
    .argument("<file>", "the executable")
    .option("--signature <file>", "its signature (default <file>.sig)")
    .action(async (file: string, options: { signature?: string }, command: Command) => {
      const descriptor = await readDescriptor(file, options.signature);
      const stream = await openFile(file);
      const published = await withDaemon(
        command,
        (client) =>
          answer(client.update.v1.artifacts.$put({}, { init: upload(stream, descriptor) })),
      );
      out(
        `published ${published.version} for ${published.target}: devices below get it with runtime.settings.ledgeVersion = "${published.version}"`,
      );
    });
}

function listCommand(): Command {
  return new Command("list")
    .description("the executables this parent serves")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const list = await withDaemon(
        command,
        (client) => answer(client.update.v1.artifacts.$get()),
      );
      if (options.json) return printJson(list);
      printTable(list.map((d) => ({ ...d, size: `${(d.size / 1024 / 1024).toFixed(1)} MB` })), [
        "version",
        "target",
        "size",
        "keyId",
      ]);
    });
}

/** Builds the `update` verb. */
export function updateCommand(): Command {
  return new Command("update")
    .description("update ledge itself: install a signed executable, or sign and publish one")
    .argument("[file]", "a signed release executable to install on this device")
    .option("--signature <file>", "its signature (default <file>.sig)")
    .action(async (file: string | undefined, options: { signature?: string }, command: Command) => {
      if (!file) {
        throw new UsageError(
          "ledge update: give a file, or one of status, keygen, sign, publish, list",
        );
      }
      await install(file, options, command);
    })
    .addCommand(statusCommand())
    .addCommand(keygenCommand())
    .addCommand(signCommand())
    .addCommand(publishCommand())
    .addCommand(listCommand());
}
