/**
 * Admission of a deployment: what the device's own policy lets it run. A process module from
 * the parent is refused for the whole deployment unless `[agent.allow]` allows it; a container
 * module whose createOptions the policy refuses is refused alone (it reports `failed`, the rest
 * runs). Every container is judged again when it is created ({@linkcode admitContainer}): the
 * engine driver only takes an {@linkcode AdmittedContainer}, so no path into the engine skips it.
 */
import { createHash } from "node:crypto";
import type { Config } from "../core/config.ts";
import type { SpecProblem } from "./container_decode.ts";
import { judgeContainer } from "./container_policy.ts";
import type { ContainerCreate } from "./container_schema.ts";
import type { Deployment, DesiredModule } from "./deployment.ts";
import { judgeHostPaths } from "./host_paths.ts";
import { ManifestError } from "./manifest_error.ts";
import { modulePath } from "./manifest_error.ts";

/** Where a deployment comes from. */
export type DeploymentSource = "local" | "upstream";

/** Engine sockets never bound into a container, whatever the engine in use. */
export const KNOWN_ENGINE_SOCKETS = [
  "/var/run/docker.sock",
  "/run/docker.sock",
  "/run/podman/podman.sock",
  "/var/run/podman/podman.sock",
  "/run/containerd/containerd.sock",
  "/var/run/containerd/containerd.sock",
  "/run/crio/crio.sock",
  "/var/run/crio/crio.sock",
] as const;

/**
 * Bumped whenever the policy changes what it admits: a container created under another version
 * (or another `[agent.allow]`) is recreated under this one instead of being started again.
 */
const POLICY_VERSION = "2";

/** The policy's view of this device. */
export interface PolicyContext {
  allow: Config["agent"]["allow"];
  /** ledge's state dir: keys, identities and every module's sockets. */
  stateDir: string;
  /** Engine API sockets on this host (their parents count too). */
  engineSockets: readonly string[];
  /** `[agent] network`: where a container goes when it names no network. */
  network: string;
}

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
  config: Config,
  stateDir: string,
  engineSocket: string | undefined,
): PolicyContext {
  const dockerHost = Deno.env.get("DOCKER_HOST");
  const sockets: string[] = [...KNOWN_ENGINE_SOCKETS];
  if (engineSocket) sockets.push(engineSocket);
  if (dockerHost?.startsWith("unix://")) sockets.push(dockerHost.slice("unix://".length));
  return {
    allow: config.agent.allow,
    stateDir,
    engineSockets: sockets,
    network: config.agent.network,
  };
}

/** One line per problem: the field, why, and the `[agent.allow]` key that would allow it. */
export function describeProblems(problems: readonly SpecProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}${p.allow ? ` (agent.allow.${p.allow})` : ""}`)
    .join("; ");
}

/**
 * Judges a container module: its createOptions as decoded, the policy's rules, its host paths
 * (resolved now).
 *
 * @returns the problems, and the body to create with host paths resolved.
 */
export async function judgeModule(
  module: DesiredModule,
  policy: PolicyContext,
): Promise<{ problems: SpecProblem[]; spec: ContainerCreate }> {
  const decoding = module.createOptionsProblems ?? [];
  if (decoding.length > 0) return { problems: [...decoding], spec: module.createOptions };
  const rules = judgeContainer(module.createOptions, policy);
  const paths = await judgeHostPaths(module.createOptions, policy);
  return { problems: [...rules, ...paths.problems], spec: paths.spec };
}

/** The container modules the policy refuses, with the reason. */
export async function deniedModules(
  deployment: Deployment,
  policy: PolicyContext,
): Promise<Record<string, string>> {
  const denied: Record<string, string> = {};
  for (const module of deployment.modules) {
    if (module.type !== "docker") continue;
    const { problems } = await judgeModule(module, policy);
    if (problems.length > 0) {
      denied[module.name] = `createOptions denied: ${describeProblems(problems)}`;
    }
  }
  return denied;
}

/**
 * A hash of what the policy admits on this device: its version, `[agent.allow]` and the network.
 * Not the engine socket found at start (absent while the engine is down), which would recreate
 * every container once the engine is back.
 */
export function policyFingerprint(policy: PolicyContext): string {
  const { allow, network } = policy;
  return createHash("sha256").update(JSON.stringify([POLICY_VERSION, allow, network]))
    .digest("hex").slice(0, 16);
}

/**
 * The deployment with the policy folded into each container module's config hash: a container
 * made under another policy (or by an older ledge) is recreated, never simply started again.
 */
export function underPolicy(deployment: Deployment, policy: PolicyContext): Deployment {
  const fingerprint = policyFingerprint(policy);
  return {
    ...deployment,
    modules: deployment.modules.map((module) =>
      module.type === "docker"
        ? {
          ...module,
          configHash: createHash("sha256").update(`${module.configHash}:${fingerprint}`)
            .digest("hex").slice(0, 16),
        }
        : module
    ),
  };
}

const admitted: unique symbol = Symbol("admitted");

/** A container body the policy admitted at the moment of create; only {@linkcode admitContainer} makes one. */
export interface AdmittedContainer {
  readonly [admitted]: true;
  /** The canonical body, host paths resolved. */
  readonly spec: ContainerCreate;
}

/** The policy refused a container at the moment of create. */
export class ContainerDeniedError extends Error {
  override name = "ContainerDeniedError";
}

/**
 * Judges a container module now (host paths resolved at this moment) for the engine driver.
 *
 * @throws {ContainerDeniedError} naming each refused field and its `[agent.allow]` key.
 */
export async function admitContainer(
  module: DesiredModule,
  policy: PolicyContext,
): Promise<AdmittedContainer> {
  const { problems, spec } = await judgeModule(module, policy);
  if (problems.length > 0) {
    throw new ContainerDeniedError(
      `Cannot create ${module.name}: createOptions denied: ${describeProblems(problems)}`,
    );
  }
  return { [admitted]: true, spec };
}
