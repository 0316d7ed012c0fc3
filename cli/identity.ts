/**
 * `ledge identity add-device|list|show|rm`: the identity registry of the running daemon. Keys
 * are printed once, by `add-device`, inside the leaf device's connection string.
 */
import { Command, Option } from "commander";
import { MgmtError } from "./_client.ts";
import { out, printJson, printTable, UsageError, withDaemon } from "./_shared.ts";

interface PublicIdentity {
  deviceId: string;
  moduleId?: string;
  kind: string;
  generationId: string;
  authType: string;
  createdAt: string;
}

function name(identity: PublicIdentity): string {
  return identity.moduleId === undefined
    ? identity.deviceId
    : `${identity.deviceId}/${identity.moduleId}`;
}

/** Splits `device` or `device/module` into the path of its management route. */
export function identityPath(id: string): string {
  const parts = id.split("/");
  if (parts.length > 2 || parts.some((part) => part === "")) {
    throw new UsageError(`<id>: expected "device" or "device/module", got "${id}"`);
  }
  const [device, module] = parts.map(encodeURIComponent);
  return module === undefined
    ? `/v1/identities/${device}`
    : `/v1/identities/${device}/modules/${module}`;
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

function addDeviceCommand(): Command {
  return new Command("add-device")
    .description("register a leaf device; prints its connection string (or certificate paths)")
    .argument("<id>", "device id")
    .addOption(
      new Option("--auth <type>", "authentication").choices(["sas", "x509"]).default("sas"),
    )
    .option("--json", "print JSON")
    .action(async (id: string, options: { auth: "sas" | "x509"; json?: boolean }, command) => {
      const added = await withDaemon(command, (client) =>
        client.request<{
          identity: PublicIdentity;
          connectionString?: string;
          certificateFile?: string;
          keyFile?: string;
        }>("POST", "/v1/identities", { deviceId: id, auth: options.auth }).catch(withFieldReasons));
      if (options.json) return printJson(added);
      if (added.connectionString) return out(added.connectionString);
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
        (client) => client.request<{ identities: PublicIdentity[] }>("GET", "/v1/identities"),
      );
      if (options.json) return printJson(identities);
      printTable(
        identities.map((identity) => ({
          id: name(identity),
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
      const path = identityPath(id);
      printJson(await withDaemon(command, (client) => client.request("GET", path)));
    });
}

function removeCommand(): Command {
  return new Command("rm")
    .description("remove a leaf device")
    .argument("<id>", "device id")
    .action(async (id: string, _options: unknown, command) => {
      if (id.includes("/")) {
        throw new UsageError(
          `<id>: modules are removed by the agent with the deployment, got "${id}"`,
        );
      }
      await withDaemon(command, (client) => client.request("DELETE", identityPath(id)));
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
