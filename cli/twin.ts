/**
 * `ledge twin <module> [--set-desired JSON]`: shows a twin, or patches its desired properties.
 * `<device>/<module>` names another device's module; `--device <id>` names a device (a leaf or
 * child edge device) and, with `<module>`, one of its modules.
 */
import { Command } from "commander";
import { configFor, printJson, UsageError, withDaemon } from "./_shared.ts";

/**
 * The management path of a twin: `<module>` on this device, `<device>/<module>`, or with
 * `device` that device's twin (no id) or its module's (`<module>`).
 */
export function twinPath(
  id: string | undefined,
  options: { deviceId: string; device: string | undefined },
): string {
  const encode = encodeURIComponent;
  if (options.device !== undefined) {
    return id === undefined
      ? `/v1/twins/${encode(options.device)}`
      : `/v1/twins/${encode(options.device)}/modules/${encode(id)}`;
  }
  if (id === undefined) {
    throw new UsageError("<id>: missing; give a module id, device/module, or --device <id>");
  }
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
      "show a module's twin (or, with --device <id>, a device's or its module's), or patch its " +
        "desired properties",
    )
    .argument("[id]", "module id or device/module; with --device, a module of that device")
    .option("--set-desired <json>", "apply this JSON object as a desired-properties patch")
    .option("--device <id>", "the device: a leaf device or a child edge device")
    .action(
      async (
        id: string | undefined,
        options: { setDesired?: string; device?: string },
        command: Command,
      ) => {
        const config = await configFor(command);
        const path = twinPath(id, { deviceId: config.device.id, device: options.device });
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
