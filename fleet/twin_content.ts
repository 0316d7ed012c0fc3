/**
 * A deployment's `modulesContent` as twins: the desired-property patches that make a device's
 * twins at this parent equal to it. Module twins come first and `$edgeAgent` last, so a device
 * whose deployment changes finds the rest in place; keys the content drops become `null`.
 *
 * @module
 */
import { diffProperties, type TwinProperties } from "../iothub/mod.ts";

/** One twin's patch. */
export interface TwinContentPatch {
  moduleId: string;
  patch: TwinProperties;
}

function withoutMetadata(properties: TwinProperties): TwinProperties {
  return Object.fromEntries(Object.entries(properties).filter(([key]) => !key.startsWith("$")));
}

/**
 * The patches that turn the twins `current(moduleId)` gives into `content`'s desired
 * properties; twins already equal are left out.
 *
 * @example
 * ```ts
 * for (const { moduleId, patch } of twinContentPatches(content, (m) => hub.getTwin({ deviceId, moduleId: m }).desired)) {
 *   hub.patchDesired({ deviceId, moduleId }, patch);
 * }
 * ```
 */
export function twinContentPatches(
  content: Record<string, unknown>,
  current: (moduleId: string) => TwinProperties,
): TwinContentPatch[] {
  const order = (name: string) => (name === "$edgeAgent" ? 2 : name === "$edgeHub" ? 1 : 0);
  const names = Object.keys(content).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const patches: TwinContentPatch[] = [];
  for (const moduleId of names) {
    const section = content[moduleId] as { "properties.desired"?: TwinProperties } | undefined;
    const wanted = section?.["properties.desired"] ?? {};
    const patch = diffProperties(withoutMetadata(current(moduleId)), withoutMetadata(wanted));
    if (Object.keys(patch).length > 0) patches.push({ moduleId, patch });
  }
  return patches;
}
