/**
 * `ledge twin <module> [--set-desired JSON]`: shows a twin, or patches its desired properties.
 * `<device>/<module>` names another device's module; `--device <id>` names a device (a leaf or
 * child edge device) and, with `<module>`, one of its modules. `ledge twin --device <id>` shows
 * the device twin as IoT Hub does (tags, properties, connectionState, capabilities,
 * configurations); `--tags JSON` merges a patch into its tags (null deletes a key), which stay
 * at this parent: the device never sees them.
 */
import { Command } from "commander";
import type { IdentityRef } from "../iothub/mod.ts";
import { answer, type MgmtClient } from "./_client.ts";
import { configFor, printJson, UsageError, withDaemon } from "./_shared.ts";

/**
 * The twin a command names: `<module>` on this device, `<device>/<module>`, or with `device`
 * that device's twin (no id) or its module's (`<module>`).
 */
export function twinTarget(
  id: string | undefined,
  options: { deviceId: string; device: string | undefined },
): IdentityRef {
  if (options.device !== undefined) {
    return id === undefined
      ? { deviceId: options.device }
      : { deviceId: options.device, moduleId: id };
  }
  if (id === undefined) {
    throw new UsageError("<id>: missing; give a module id, device/module, or --device <id>");
  }
  const slash = id.indexOf("/");
  if (slash > 0) return { deviceId: id.slice(0, slash), moduleId: id.slice(slash + 1) };
  return { deviceId: options.deviceId, moduleId: id };
}

/** Reads a twin through the management API. */
export function getTwin(client: MgmtClient, target: IdentityRef) {
  const deviceId = encodeURIComponent(target.deviceId);
  const twins = client.hub.v1.twins[":deviceId"];
  return target.moduleId === undefined
    ? answer(twins.$get({ param: { deviceId } }))
    : answer(twins.modules[":moduleId"].$get({
      param: { deviceId, moduleId: encodeURIComponent(target.moduleId) },
    }));
}

/** Patches a twin's desired properties through the management API. */
export function patchDesired(
  client: MgmtClient,
  target: IdentityRef,
  patch: Record<string, unknown>,
) {
  const deviceId = encodeURIComponent(target.deviceId);
  const twins = client.hub.v1.twins[":deviceId"];
  return target.moduleId === undefined
    ? answer(twins.$patch({ param: { deviceId }, json: patch }))
    : answer(twins.modules[":moduleId"].$patch({
      param: { deviceId, moduleId: encodeURIComponent(target.moduleId) },
      json: patch,
    }));
}

/** The JSON object an option holds; a usage error naming the option otherwise. */
function jsonObjectOption(option: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${option}: expected a JSON object, got ${text}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${option}: expected a JSON object, got ${text}`);
  }
  return value as Record<string, unknown>;
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
    .option("--tags <json>", "with --device: merge this JSON object into the device's tags")
    .action(
      async (
        id: string | undefined,
        options: { setDesired?: string; device?: string; tags?: string },
        command: Command,
      ) => {
        const config = await configFor(command);
        const target = twinTarget(id, { deviceId: config.device.id, device: options.device });
        const patch = options.setDesired === undefined
          ? undefined
          : jsonObjectOption("--set-desired", options.setDesired);
        const tags = options.tags === undefined
          ? undefined
          : jsonObjectOption("--tags", options.tags);
        if (tags !== undefined && (options.device === undefined || id !== undefined)) {
          throw new UsageError("--tags: give --device <id> and no module (tags are a device's)");
        }
        if (tags !== undefined && patch !== undefined) {
          throw new UsageError("--tags: give it or --set-desired, not both");
        }
        const result = await withDaemon<unknown>(command, (client) => {
          if (patch !== undefined) return patchDesired(client, target, patch);
          // A device's own twin comes from the fleet, which adds tags and IoT Hub's fields.
          if (target.moduleId !== undefined) return getTwin(client, target);
          const device = client.fleet.v1.fleet.devices[":id"];
          const param = { id: encodeURIComponent(target.deviceId) };
          return tags === undefined
            ? answer(device.$get({ param }))
            : answer(device.tags.$patch({ param, json: tags }));
        });
        printJson(result);
      },
    );
}
