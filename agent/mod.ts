/**
 * The agent: deployment manifests to running modules on Podman, Docker, or plain processes.
 *
 * It accepts IoT Edge deployment manifests (`ledge deploy`, or the parent's `$edgeAgent` twin
 * through the upstream link, which may run process modules only where
 * `[agent.allow] process_modules_from_upstream` allows it), persists the last accepted one, plans `(current, desired) -> steps` with a pure planner,
 * performs them through an engine driver (the Docker Engine API v1.41, served by Podman and
 * Docker, or the process driver), restarts modules per policy with capped back-off, and reports
 * the `$edgeAgent` reported properties.
 *
 * @example
 * ```ts
 * const component = createAgentComponent(context, { provisioner: security });
 * await component.start(signal);
 * await component.agent.deploy(JSON.parse(await Deno.readTextFile("deployment.json")));
 * ```
 *
 * @module
 */
import type { Component, RuntimeContext } from "../core/component.ts";
import { type AgentService, createAgent } from "./agent.ts";
import { AGENT_API_DOCS, createAgentApi } from "./api.ts";

export type { AgentApi } from "./api.ts";
import type { EngineDriver } from "./engine/driver.ts";
import type { ImageLoadOptions } from "./engine/image_load.ts";
import type { ModuleProvisioner } from "./provisioner.ts";

export type { Agent, AgentService, DeployOptions, DeployResult, ModuleSummary } from "./agent.ts";
export type { Deployment, DesiredModule, ManifestIssue, ProcessSettings } from "./deployment.ts";
export { ManifestError, parseDeployment } from "./deployment.ts";
export type { EdgeHubDesired, RouteSpec } from "./manifest.ts";
export type { ModuleProvision, ModuleProvisioner } from "./provisioner.ts";
export type { DesiredStatus, EdgeAgentReported, ReportCut, ReportedModule } from "./reported.ts";
export { CUT_MARKER, fitReported, ReportedFit } from "./reported_fit.ts";
export type { RuntimeStatus } from "./step.ts";
export type { EngineDriver } from "./engine/driver.ts";
export { createProcessDriver } from "./engine/process_driver.ts";
export { findEngineSocket } from "./engine/select_engine.ts";
export { parseSince } from "./since.ts";
export type { ImageLoadOptions, ImageLoadProgress } from "./engine/image_load.ts";

/**
 * Loads an image archive (`docker save`'s tar) into the engine at `socketPath`; resolves with the
 * loaded image names. The Docker client is imported on this call, not with the agent: a device
 * without a container engine never loads it.
 */
export async function loadImageArchive(
  socketPath: string,
  archive: ReadableStream<Uint8Array>,
  options: ImageLoadOptions = {},
): Promise<string[]> {
  const { loadImageArchive } = await import("./engine/image_load.ts");
  return await loadImageArchive(socketPath, archive, options);
}

/** The agent as a daemon component, with the agent itself for the hub and upstream. */
export interface AgentComponent extends Component {
  readonly agent: AgentService;
}

/**
 * Builds the agent component. `provisioner` is the security manager (anything with
 * `provisionModule`/`removeModule`); `driver` replaces the engine found from `[agent]`.
 */
export function createAgentComponent(
  context: RuntimeContext,
  options: { provisioner: ModuleProvisioner; driver?: EngineDriver },
): AgentComponent {
  const agent: AgentService = createAgent(
    { ...context, logger: context.logger.child("agent") },
    options,
  );
  return {
    name: "agent",
    agent,
    api: createAgentApi(agent),
    apiDocs: AGENT_API_DOCS,
    start: (signal) => agent.start(signal),
    stop: () => agent.stop(),
  };
}
