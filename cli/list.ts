/** `ledge list [--json]`: each module's status, like `iotedge list`. */
import { Command } from "commander";
import type { ModuleSummary } from "../agent/mod.ts";
import { printJson, printTable, withDaemon } from "./_shared.ts";

/** Builds the `list` verb. */
export function listCommand(): Command {
  return new Command("list")
    .description("list the modules and their status (NAME STATUS DESCRIPTION CONFIG)")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const answer = await withDaemon(
        command,
        (client) => client.request<{ modules: ModuleSummary[] }>("GET", "/v1/modules"),
      );
      if (options.json) return printJson(answer.modules);
      const rows = answer.modules.map(({ name, status, description, config }) => ({
        name,
        status,
        description,
        config,
      }));
      printTable(rows, ["name", "status", "description", "config"]);
    });
}
