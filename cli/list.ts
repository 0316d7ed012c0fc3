/**
 * `ledge list [--json]`: each module's status, like `iotedge list`. With `--device <child>`, the
 * modules of a child edge device, read from its `$edgeAgent` reported properties on this parent.
 */
import { Command } from "commander";
import { answer } from "./_client.ts";
import { getTwin } from "./twin.ts";
import { out, printJson, printTable, withDaemon } from "./_shared.ts";

/** One row of the table. */
export type ListRow = {
  name: string;
  status: string;
  description: string;
  config: string;
};

interface ReportedModule {
  runtimeStatus?: unknown;
  statusDescription?: unknown;
  settings?: { image?: unknown; command?: unknown; args?: unknown };
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function configOf(module: ReportedModule): string {
  const settings = module.settings ?? {};
  if (typeof settings.image === "string") return settings.image;
  const args = Array.isArray(settings.args) ? settings.args.map(String) : [];
  return [text(settings.command), ...args].filter((part) => part !== "").join(" ");
}

/**
 * The rows of `ledge list` from `$edgeAgent` reported properties (system modules first), and
 * the last desired status they carry.
 */
export function rowsFromReported(reported: Record<string, unknown>): {
  rows: ListRow[];
  lastDesiredStatus: { code: number; description: string } | undefined;
  lastDesiredVersion: number | undefined;
} {
  const rows: ListRow[] = [];
  for (const section of ["systemModules", "modules"]) {
    const modules = reported[section];
    if (typeof modules !== "object" || modules === null) continue;
    for (const [name, value] of Object.entries(modules as Record<string, ReportedModule>)) {
      rows.push({
        name,
        status: text(value?.runtimeStatus) || "unknown",
        description: text(value?.statusDescription),
        config: configOf(value ?? {}),
      });
    }
  }
  const status = reported.lastDesiredStatus as
    | { code?: unknown; description?: unknown }
    | undefined;
  const version = reported.lastDesiredVersion;
  return {
    rows,
    lastDesiredStatus: typeof status?.code === "number"
      ? { code: status.code, description: text(status.description) }
      : undefined,
    lastDesiredVersion: typeof version === "number" ? version : undefined,
  };
}

/** Builds the `list` verb. */
export function listCommand(): Command {
  return new Command("list")
    .description("list the modules and their status (NAME STATUS DESCRIPTION CONFIG)")
    .option("--device <id>", "a child edge device: its modules as it reports them to this parent")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean; device?: string }, command: Command) => {
      if (options.device !== undefined) {
        const target = { deviceId: options.device, moduleId: "$edgeAgent" };
        const twin = await withDaemon(command, (client) => getTwin(client, target));
        const listed = rowsFromReported(twin.reported);
        if (options.json) return printJson(listed);
        if (listed.lastDesiredStatus === undefined) {
          out(`${options.device} has not reported its modules to this parent yet`);
          return;
        }
        printTable(listed.rows, ["name", "status", "description", "config"]);
        const { code, description } = listed.lastDesiredStatus;
        if (code !== 200) {
          out(
            `last deployment (version ${listed.lastDesiredVersion ?? "?"}): ${code} ${description}`,
          );
        }
        return;
      }
      const { modules } = await withDaemon(
        command,
        (client) => answer(client.agent.v1.modules.$get()),
      );
      if (options.json) return printJson(modules);
      const rows = modules.map(({ name, status, description, config }) => ({
        name,
        status,
        description,
        config,
      }));
      printTable(rows, ["name", "status", "description", "config"]);
    });
}
