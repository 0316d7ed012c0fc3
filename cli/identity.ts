/**
 * `ledge identity add-device|list|show|rm`: the identity registry of the running daemon. Keys
 * are printed once, by `add-device`, inside the leaf device's connection string.
 */
import { Command, Option } from "commander";
import { identityLabel, type IdentityRef, identityRef } from "../iothub/mod.ts";
import type { ParentLink } from "../security/mod.ts";
import { answer, type MgmtClient, MgmtError } from "./_client.ts";
import { ExitError, out, printJson, printTable, UsageError, withDaemon } from "./_shared.ts";

/** The identity `device` or `device/module` names; a usage error for anything else. */
export function identityTarget(id: string): IdentityRef {
  const parts = id.split("/");
  if (parts.length > 2 || parts.some((part) => part === "")) {
    throw new UsageError(`<id>: expected "device" or "device/module", got "${id}"`);
  }
  const [deviceId, moduleId] = parts as [string, string | undefined];
  return identityRef({ deviceId, moduleId });
}

function getIdentity(client: MgmtClient, target: IdentityRef) {
  const deviceId = encodeURIComponent(target.deviceId);
  const identities = client.security.v1.identities[":deviceId"];
  return target.moduleId === undefined
    ? answer(identities.$get({ param: { deviceId } }))
    : answer(identities.modules[":moduleId"].$get({
      param: { deviceId, moduleId: encodeURIComponent(target.moduleId) },
    }));
}

/** Adds the daemon's per-field reasons (`detail`) to a 400's one-line message. */
function withFieldReasons(error: unknown): never {
  if (error instanceof MgmtError && Array.isArray(error.detail) && error.detail.length > 0) {
    const reasons = error.detail.map((d: { path?: string; message?: string }) =>
      `${d.path || "body"}: ${d.message}`
    );
    throw new MgmtError(`${error.message}: ${reasons.join("; ")}`, error.status, error.detail);
  }
  throw error;
}

/** Where the snippet says the child keeps the CA bundle when `--ca-out` is not given. */
export const DEFAULT_PARENT_CA_FILE = "/etc/ledge/parent-ca.pem";

/** The `[upstream]` section a child edge device puts in its config to use this ledge as parent. */
export function upstreamSnippet(
  deviceId: string,
  link: Omit<ParentLink, "caPem">,
  caFile: string,
): string {
  return [
    `# Config of the child edge device: its [device] id must be ${JSON.stringify(deviceId)}.`,
    "[upstream]",
    "enabled = true",
    `hostname = ${JSON.stringify(link.hostname)}`,
    `port = ${link.port}`,
    `protocol = ${JSON.stringify(link.protocol)}`,
    `https_port = ${link.httpsPort}`,
    `shared_access_key = ${JSON.stringify(link.sharedAccessKey)}`,
    `ca_file = ${JSON.stringify(caFile)}`,
  ].join("\n");
}

async function writeCaBundle(path: string, pem: string): Promise<string> {
  try {
    await Deno.writeTextFile(path, pem, { mode: 0o644 });
    return await Deno.realPath(path);
  } catch (error) {
    throw new ExitError(1, `Cannot write --ca-out ${path}: ${(error as Error).message}`);
  }
}

function addDeviceCommand(): Command {
  return new Command("add-device")
    .description(
      "register a leaf device (prints its connection string or certificate paths), or with " +
        "--edge a child edge device (prints its [upstream] config and this ledge's CA bundle)",
    )
    .argument("<id>", "device id")
    .addOption(
      new Option("--auth <type>", "authentication").choices(["sas", "x509"]).default("sas"),
    )
    .option("--edge", "a child edge device: a ledge that uses this one as its parent")
    .option("--ca-out <path>", "with --edge: write the CA bundle the child needs to this file")
    .option("--json", "print JSON")
    .action(async (
      id: string,
      options: { auth: "sas" | "x509"; edge?: boolean; caOut?: string; json?: boolean },
      command,
    ) => {
      if (options.caOut !== undefined && !options.edge) {
        throw new UsageError("--ca-out: only with --edge");
      }
      if (options.edge && options.auth !== "sas") {
        throw new UsageError("--auth: child edge devices (--edge) authenticate with sas");
      }
      const added = await withDaemon(
        command,
        (client) =>
          answer(client.security.v1.identities.$post({
            json: { deviceId: id, auth: options.auth, ...(options.edge ? { edge: true } : {}) },
          })).catch(withFieldReasons),
      );
      if (added.parent) {
        const { caPem, ...link } = added.parent;
        const caFile = options.caOut === undefined
          ? DEFAULT_PARENT_CA_FILE
          : await writeCaBundle(options.caOut, caPem);
        if (options.json) return printJson({ ...added, caFile });
        out(upstreamSnippet(id, link, caFile));
        if (options.caOut === undefined) {
          out(`\n# Save this CA bundle on the child as ${caFile}:`);
          out(caPem.trimEnd());
        }
        return;
      }
      if (options.json) return printJson(added);
      if ("connectionString" in added) return out(added.connectionString);
      out(`certificate: ${added.certificateFile}`);
      out(`key:         ${added.keyFile}`);
    });
}

function listCommand(): Command {
  return new Command("list")
    .description("list identities: this device, its modules, leaf devices")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command) => {
      const { identities } = await withDaemon(
        command,
        (client) => answer(client.security.v1.identities.$get()),
      );
      if (options.json) return printJson(identities);
      printTable(
        identities.map((identity) => ({
          id: identityLabel(identity),
          kind: identity.kind,
          auth: identity.authType,
          generation: identity.generationId,
        })),
        ["id", "kind", "auth", "generation"],
      );
    });
}

function showCommand(): Command {
  return new Command("show")
    .description("show one identity (device or device/module), without its keys")
    .argument("<id>", "device or device/module")
    .action(async (id: string, _options: unknown, command) => {
      const target = identityTarget(id);
      printJson(await withDaemon(command, (client) => getIdentity(client, target)));
    });
}

function removeCommand(): Command {
  return new Command("rm")
    .description(
      "remove a leaf device or a child edge device (its whole subtree stops authenticating)",
    )
    .argument("<id>", "device id")
    .action(async (id: string, _options: unknown, command) => {
      if (id.includes("/")) {
        throw new UsageError(
          `<id>: modules are removed by the agent with the deployment, got "${id}"`,
        );
      }
      await withDaemon(
        command,
        (client) =>
          answer(client.security.v1.identities[":deviceId"].$delete({
            param: { deviceId: encodeURIComponent(id) },
          })),
      );
      out(`removed ${id}`);
    });
}

/** Builds the `identity` verb. */
export function identityCommand(): Command {
  return new Command("identity")
    .description("manage identities: leaf devices, and view modules")
    .addCommand(addDeviceCommand())
    .addCommand(listCommand())
    .addCommand(showCommand())
    .addCommand(removeCommand());
}
