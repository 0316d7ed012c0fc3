/**
 * `$upstream` in an image reference or a registry address names this device's parent, as in
 * nested IoT Edge (`$upstream:443/azureiotedge-agent:1.5`): a nested child pulls its modules'
 * images from a registry its parent runs (a pull-through cache), whatever the parent's host name
 * is on each site. The agent replaces it with `[upstream] hostname` before anything else sees
 * the reference.
 */
import { type DesiredModule, moduleConfigHash } from "./desired_module.ts";
import type { RegistryCredential } from "./manifest.ts";
import { type ManifestIssue, modulePath } from "./manifest_error.ts";

/** The placeholder, at the start of an image reference or a registry address. */
export const UPSTREAM_PLACEHOLDER = "$upstream";

/** Whether `reference` names the parent with `$upstream` (followed by `:port`, `/` or nothing). */
export function namesUpstream(reference: string): boolean {
  return reference === UPSTREAM_PLACEHOLDER || /^\$upstream[:/]/.test(reference);
}

/**
 * `reference` with a leading `$upstream` replaced by `parentHost`; other references unchanged.
 *
 * @example
 * ```ts
 * resolveUpstream("$upstream:5000/ledge/sensor:1", "gateway.local"); // "gateway.local:5000/ledge/sensor:1"
 * ```
 */
export function resolveUpstream(reference: string, parentHost: string): string {
  return namesUpstream(reference)
    ? `${parentHost}${reference.slice(UPSTREAM_PLACEHOLDER.length)}`
    : reference;
}

/**
 * `modules` with `$upstream` in their images resolved to `parentHost` (config hashes follow); an
 * issue for each that names `$upstream` on a device with no parent (`parentHost` undefined).
 */
export function withUpstreamImages(
  modules: readonly DesiredModule[],
  parentHost: string | undefined,
  issues: ManifestIssue[],
): DesiredModule[] {
  return modules.flatMap((module) => {
    if (!namesUpstream(module.image)) return [module];
    if (parentHost === undefined) {
      issues.push({
        path: modulePath(module.name, "settings", "image"),
        message:
          `"${module.image}" names the parent's registry ($upstream), but this device has no parent ([upstream] is not enabled)`,
      });
      return [];
    }
    const { configHash: _, ...partial } = {
      ...module,
      image: resolveUpstream(module.image, parentHost),
    };
    return [{ ...partial, configHash: moduleConfigHash(partial) }];
  });
}

/** Registry credentials with `$upstream` in their addresses resolved to `parentHost`. */
export function withUpstreamAddresses(
  credentials: Record<string, RegistryCredential>,
  parentHost: string | undefined,
): Record<string, RegistryCredential> {
  if (parentHost === undefined) return credentials;
  return Object.fromEntries(
    Object.entries(credentials).map((
      [name, credential],
    ) => [name, { ...credential, address: resolveUpstream(credential.address, parentHost) }]),
  );
}
