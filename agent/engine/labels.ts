/**
 * Labels that mark an instance as this ledge's: IoT Edge's owner label (so tools that know IoT
 * Edge recognize it), plus the ledge instance, the module and its config hash.
 */
import { createHash } from "node:crypto";

/** IoT Edge's owner label and value. */
export const OWNER_LABEL = "net.azure-devices.edge.owner";
/** The value IoT Edge's agent puts in {@linkcode OWNER_LABEL}. */
export const OWNER_VALUE = "Microsoft.Azure.Devices.Edge.Agent";
/** Which ledge (state dir) owns the instance; nothing else is ever touched. */
export const INSTANCE_LABEL = "dev.ledge.instance";
/** The module name. */
export const MODULE_LABEL = "dev.ledge.module";
/** The config hash the instance was created from. */
export const CONFIG_HASH_LABEL = "dev.ledge.config-hash";

/** The instance id of the ledge whose state dir is `stateDir`: stable across restarts. */
export function ledgeInstanceId(stateDir: string): string {
  return createHash("sha256").update(stateDir).digest("hex").slice(0, 16);
}

/** The labels of a module's instance. */
export function instanceLabels(
  instance: string,
  module: { name: string; configHash: string },
): Record<string, string> {
  return {
    [OWNER_LABEL]: OWNER_VALUE,
    [INSTANCE_LABEL]: instance,
    [MODULE_LABEL]: module.name,
    [CONFIG_HASH_LABEL]: module.configHash,
  };
}
