/**
 * Admission of a deployment: what the device's own policy lets it run. A process module from
 * the parent is refused for the whole deployment unless `[agent.allow]` allows it; a container
 * module whose createOptions the policy denies is refused alone (it reports `failed`, the rest
 * runs).
 */
import type { Config } from "../core/config.ts";
import {
  checkCreateOptions,
  KNOWN_ENGINE_SOCKETS,
  type PolicyContext,
} from "./create_options_policy.ts";
import { type Deployment, ManifestError } from "./deployment.ts";
import { modulePath } from "./manifest_error.ts";

/** Where a deployment comes from. */
export type DeploymentSource = "local" | "upstream";

/**
 * Process modules run host commands: from the parent only where the device allows it.
 *
 * @throws {ManifestError} (400) naming each process module of an upstream deployment.
 */
export function checkSource(
  deployment: Deployment,
  source: DeploymentSource,
  allow: Config["agent"]["allow"],
): void {
  if (source !== "upstream" || allow.process_modules_from_upstream) return;
  const issues = deployment.modules.filter((module) => module.type === "process").map((
    module,
  ) => ({
    path: modulePath(module.name, "type"),
    message:
      'a "process" module from the parent is denied by the device policy (agent.allow.process_modules_from_upstream)',
  }));
  if (issues.length > 0) throw new ManifestError(400, issues);
}

/** The policy's view of this device. */
export function policyContext(
  allow: Config["agent"]["allow"],
  stateDir: string,
  engineSocket: string | undefined,
): PolicyContext {
  return {
    allow,
    stateDir,
    engineSockets: engineSocket ? [engineSocket, ...KNOWN_ENGINE_SOCKETS] : [
      ...KNOWN_ENGINE_SOCKETS,
    ],
  };
}

/** The container modules the policy denies, with the reason. */
export function deniedModules(
  deployment: Deployment,
  policy: PolicyContext,
): Record<string, string> {
  const denied: Record<string, string> = {};
  for (const module of deployment.modules) {
    if (module.type !== "docker") continue;
    const violations = checkCreateOptions(module.createOptions, policy);
    if (violations.length > 0) {
      denied[module.name] = `createOptions denied: ${violations.join("; ")}`;
    }
  }
  return denied;
}
