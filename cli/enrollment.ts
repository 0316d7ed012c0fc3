/**
 * `ledge enrollment create|list|show|delete`: enrollment groups for zero-touch enrollment (as
 * DPS's symmetric-key group enrollments). `create <group> [--edge] [--tags JSON] [--deployment
 * <id>]` prints the group key and the `[upstream]` section a device of the group puts in its
 * config: with it, the device derives its own key (HMAC-SHA256 of its id under the group key) and
 * registers on its first connect, with the group's tags; nothing is done per device here.
 * Deleting a group refuses new registrations; devices already registered stay.
 */
import { Command } from "commander";
import { explainFleetError } from "./_fleet_output.ts";
import { ExitError, out, printJson, printTable, UsageError, withDaemon } from "./_shared.ts";
import { DEFAULT_PARENT_CA_FILE } from "./identity.ts";
import { answer, type MgmtClient } from "./_client.ts";
import type { EnrollmentRequest } from "../fleet/mod.ts";
import type { z } from "zod";

function enrollments(client: MgmtClient) {
  return client.fleet.v1.fleet.enrollments;
}

function param(id: string) {
  return { param: { id: encodeURIComponent(id) } };
}

/** The `[upstream]` section of a device enrolling through `group`. */
export function enrollmentSnippet(
  group: string,
  key: string,
  parent: { hostname: string; port: number; protocol: string },
  caFile: string,
): string {
  return [
    `# Config of a device of enrollment group ${
      JSON.stringify(group)
    }: any [device] id; it registers on first connect.`,
    "[upstream]",
    "enabled = true",
    `hostname = ${JSON.stringify(parent.hostname)}`,
    `port = ${parent.port}`,
    `protocol = ${JSON.stringify(parent.protocol)}`,
    `ca_file = ${JSON.stringify(caFile)}`,
    `enrollment_group = ${JSON.stringify(group)}`,
    `enrollment_key = ${JSON.stringify(key)}`,
  ].join("\n");
}

function createCommand(): Command {
  return new Command("create")
    .description("create an enrollment group; prints its key and the devices' [upstream] config")
    .argument("<group>", "enrollment group id")
    .option("--edge", "its devices are ledges (child edge devices), not leaf devices")
    .option("--tags <json>", "tags each device gets when it registers")
    .option("--deployment <id>", "a deployment each device gets (with --edge)")
    .option("--ca-out <path>", "write this ledge's CA bundle (the devices' ca_file) here")
    .option("--json", "print JSON")
    .action(async (
      group: string,
      options: {
        edge?: boolean;
        tags?: string;
        deployment?: string;
        caOut?: string;
        json?: boolean;
      },
      command: Command,
    ) => {
      let tags: unknown = {};
      if (options.tags !== undefined) {
        try {
          tags = JSON.parse(options.tags);
        } catch {
          throw new UsageError(`--tags: expected a JSON object, got ${options.tags}`);
        }
      }
      const body = {
        id: group,
        edge: options.edge === true,
        tags,
        ...(options.deployment === undefined ? {} : { deployment: options.deployment }),
      };
      const created = await withDaemon(
        command,
        (client) =>
          answer(enrollments(client).$post({ json: body as z.input<typeof EnrollmentRequest> }))
            .catch((error) => explainFleetError(error)),
      );
      if (options.json) return printJson(created);
      let caFile = DEFAULT_PARENT_CA_FILE;
      if (options.caOut !== undefined && created.parent !== undefined) {
        try {
          await Deno.writeTextFile(options.caOut, created.parent.caPem, { mode: 0o644 });
          caFile = await Deno.realPath(options.caOut);
        } catch (error) {
          throw new ExitError(
            1,
            `Cannot write --ca-out ${options.caOut}: ${(error as Error).message}`,
          );
        }
      }
      out(`enrollment group ${created.id} created; group key (keep it secret):`);
      out(created.primaryKey ?? "");
      if (created.parent !== undefined) {
        out("");
        out(enrollmentSnippet(created.id, created.primaryKey ?? "", created.parent, caFile));
      }
    });
}

/** Builds the `enrollment` verb. */
export function enrollmentCommand(): Command {
  return new Command("enrollment")
    .description("enrollment groups: devices that register themselves on first connect")
    .addCommand(createCommand())
    .addCommand(
      new Command("list").description("every enrollment group (keys left out)").option(
        "--json",
        "print JSON",
      )
        .action(async (options: { json?: boolean }, command: Command) => {
          const list = await withDaemon(
            command,
            (client) => answer(enrollments(client).$get()),
          );
          if (options.json) return printJson(list);
          printTable(
            list.map((e) => ({
              group: e.id,
              edge: e.edge ? "yes" : "",
              registrations: e.registrations,
              deployment: e.deployment ?? "",
              tags: JSON.stringify(e.tags),
            })),
            ["group", "edge", "registrations", "deployment", "tags"],
          );
        }),
    )
    .addCommand(
      new Command("show").description("an enrollment group, with its keys").argument("<group>")
        .action(async (group: string, _options: unknown, command: Command) => {
          printJson(
            await withDaemon(
              command,
              (client) => answer(enrollments(client)[":id"].$get(param(group))),
            ),
          );
        }),
    )
    .addCommand(
      new Command("delete").description(
        "delete a group: new registrations are refused, registered devices stay",
      )
        .argument("<group>")
        .action(async (group: string, _options: unknown, command: Command) => {
          await withDaemon(
            command,
            (client) => answer(enrollments(client)[":id"].$delete(param(group))),
          );
          out(`enrollment group ${group} deleted; devices registered through it stay`);
        }),
    );
}
