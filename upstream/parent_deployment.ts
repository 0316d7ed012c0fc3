/**
 * What a parent's twins say this device should run: its `$edgeAgent` and `$edgeHub` desired
 * twins there (and the desired twins of its modules) combined into one `modulesContent`, and the
 * key that tells whether that differs from what runs. Pure.
 */
import { stableJson, type TwinProperties } from "../iothub/mod.ts";

/** A twin side without its `$` metadata (`$version`, `$metadata`). */
export function withoutMetadata(properties: TwinProperties | undefined): TwinProperties {
  const out: TwinProperties = {};
  for (const [key, value] of Object.entries(properties ?? {})) {
    if (!key.startsWith("$")) out[key] = value;
  }
  return out;
}

export function isEmpty(properties: TwinProperties): boolean {
  return Object.keys(properties).length === 0;
}

/** The parent's view of this device's deployment twins. */
export interface ParentDeployment {
  agent: TwinProperties | undefined;
  agentVersion: number | undefined;
  hub: TwinProperties | undefined;
  hubVersion: number | undefined;
  modules: Map<string, TwinProperties>;
}

/**
 * The `modulesContent` a parent's twins make, or undefined when the parent holds no
 * `$edgeAgent` desired properties for this device.
 */
export function deploymentFromTwins(parent: ParentDeployment): Record<string, unknown> | undefined {
  const agent = withoutMetadata(parent.agent);
  if (isEmpty(agent)) return undefined;
  const content: Record<string, unknown> = {
    $edgeAgent: {
      "properties.desired": {
        ...agent,
        ...(parent.agentVersion === undefined ? {} : { $version: parent.agentVersion }),
      },
    },
  };
  const hub = withoutMetadata(parent.hub);
  if (!isEmpty(hub)) content.$edgeHub = { "properties.desired": hub };
  for (const [moduleId, desired] of parent.modules) {
    const properties = withoutMetadata(desired);
    if (!isEmpty(properties) && !(moduleId in content)) {
      content[moduleId] = { "properties.desired": properties };
    }
  }
  return content;
}

/** The part of a deployment that decides whether it changed: `$edgeAgent` and `$edgeHub`. */
export function deploymentKey(content: Record<string, unknown> | undefined): string {
  const section = (name: string) =>
    (content?.[name] as { "properties.desired"?: unknown } | undefined)?.["properties.desired"];
  return stableJson([
    section("$edgeAgent"),
    withoutMetadata(section("$edgeHub") as TwinProperties),
  ]);
}
