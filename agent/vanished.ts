/**
 * Instances removed outside ledge (`podman rm -f`, `docker rm -f`): what the agent saw at its
 * last look, less what it removed itself, that is gone now. The agent counts each as a crash.
 * Pure; the loop keeps the {@linkcode SeenInstances} between rounds.
 */
import type { DesiredModule } from "./deployment.ts";
import type { ModuleInstance } from "./module_instance.ts";

/** Module name -> config hash of each instance seen at the last look. */
export type SeenInstances = Map<string, string>;

/** What one look found. */
export interface Sighting {
  /** The instances found now. */
  current: readonly ModuleInstance[];
  /** The desired modules. */
  desired: readonly DesiredModule[];
  /** Which drivers were looked at (the engine's instances are unknown while it is away). */
  looked: ReadonlySet<ModuleInstance["type"]>;
}

/**
 * Updates `seen` with one look.
 *
 * @returns the desired modules whose instance of their current config was seen last time and
 * is gone now.
 */
export function takeVanished(seen: SeenInstances, sighting: Sighting): DesiredModule[] {
  const found = new Set(sighting.current.map((instance) => instance.name));
  const vanished = sighting.desired.filter((module) =>
    sighting.looked.has(module.type) && !found.has(module.name) &&
    seen.get(module.name) === module.configHash
  );
  for (const [name] of seen) {
    const module = sighting.desired.find((m) => m.name === name);
    if (!module || sighting.looked.has(module.type)) seen.delete(name);
  }
  const wanted = new Map(sighting.desired.map((m) => [m.name, m.configHash]));
  for (const instance of sighting.current) {
    // Of two instances of one module, the one of the desired config is the one to miss.
    if (seen.get(instance.name) !== wanted.get(instance.name)) {
      seen.set(instance.name, instance.configHash);
    }
  }
  return vanished;
}
