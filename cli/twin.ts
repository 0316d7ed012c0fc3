/** `ledge twin <id> [--set-desired JSON]`: shows a twin, or patches its desired properties. */
import { Command } from "commander";
import { configFor, printJson, UsageError, withDaemon } from "./_shared.ts";

/** The management path of a twin: `<module>` on this device, or `<device>/<module>`, or `--device`. */
export function twinPath(id: string, options: { deviceId: string; device: boolean }): string {
  const encode = encodeURIComponent;
  if (options.device) return `/v1/twins/${encode(id)}`;
  const slash = id.indexOf("/");
  if (slash > 0) {
    return `/v1/twins/${encode(id.slice(0, slash))}/modules/${encode(id.slice(slash + 1))}`;
  }
  return `/v1/twins/${encode(options.deviceId)}/modules/${encode(id)}`;
}

/** Builds the `twin` verb. */
export function twinCommand(): Command {
  return new Command("twin")
    .description(
      "show a module's (or, with --device, a device's) twin, or patch its desired properties",
    )
    .argument("<id>", "module id, device/module, or a device id with --device")
    .option("--set-desired <json>", "apply this JSON object as a desired-properties patch")
    .option("--device", "the id is a leaf device")
    .action(
      async (id: string, options: { setDesired?: string; device?: boolean }, command: Command) => {
        const config = await configFor(command);
        const path = twinPath(id, { deviceId: config.device.id, device: options.device ?? false });
        let patch: unknown;
        if (options.setDesired !== undefined) {
          try {
            patch = JSON.parse(options.setDesired);
          } catch {
            throw new UsageError(
              `--set-desired: expected a JSON object, got ${options.setDesired}`,
            );
          }
          if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
            throw new UsageError(
              `--set-desired: expected a JSON object, got ${options.setDesired}`,
            );
          }
        }
        const result = await withDaemon(
          command,
          (client) =>
            patch === undefined
              ? client.request("GET", path)
              : client.request("PATCH", path, patch),
        );
        printJson(result);
      },
    );
}
