/**
 * The daemon's components in start order. Each part of ledge plugs in here:
 * security first (identities and certificates), then the hub (needs certificates), then the
 * agent (needs identities for the modules it runs, and the hub for their routes), then the
 * upstream link (drains the hub's `$upstream` queue), then what ties the parent's twins,
 * methods and C2D to the agent and hub, the metrics listener, which reads them all, and last the
 * web console. They stop in reverse.
 */
import { createAgentComponent } from "../agent/mod.ts";
import { createHubComponent } from "../hub/mod.ts";
import { createUpstreamComponent, createUpstreamLink, withEnrollmentKey } from "../upstream/mod.ts";
import { createSecurityComponent, parentLink } from "../security/mod.ts";
import type { Component, RuntimeContext } from "../core/component.ts";
import { agentFamilies, certificateFamilies, hubFamilies } from "./ledge_metrics.ts";
import { createMetricsComponent } from "./metrics.ts";
import { type ConsoleCheck, createConsoleComponent } from "./console/mod.ts";
import { ArtifactStore } from "./update/artifact_store.ts";
import { artifactRoutes, parentEndpoint } from "./update/parent_artifacts.ts";
import { createUpdateComponent } from "./update/update_component.ts";

/** What the composition root adds from the layers above the daemon. */
export interface ComponentHooks {
  /** `ledge check`'s checks (ops/), for the console's overview. */
  checks?: () => Promise<ConsoleCheck[]>;
  /**
   * Stops the daemon and exits with `code` (75: start again, e.g. as the new version after a
   * self-update). Default: logged only (nothing can restart this daemon).
   */
  exit?(code: number, reason: string): void;
}
import { createFleetComponent } from "../fleet/mod.ts";

/**
 * After the hub: the fleet of this parent (tags, queries, deployments, enrollment) reads and
 * writes the hub's twins and registers enrolled devices with the security manager.
 */
function fleetComponent(
  context: RuntimeContext,
  security: ReturnType<typeof createSecurityComponent>,
  hub: ReturnType<typeof createHubComponent>,
) {
  return createFleetComponent(context, {
    hub: () => hub.hub,
    security: security.manager,
    parent() {
      const own = security.manager.registry.get(context.config.device.id)!;
      const { sharedAccessKey: _key, ...endpoint } = parentLink(context.config, own, {
        caPem: security.manager.trustBundlePem(),
        bound: hub.listeners(),
      });
      return endpoint;
    },
  });
}

/** Builds the components of a daemon for `context`, in start order. */
export function buildComponents(given: RuntimeContext, hooks: ComponentHooks = {}): Component[] {
  // A device enrolled through a group derives its upstream key once, for every component.
  const context = { ...given, config: withEnrollmentKey(given.config) };
  // The hub is created next; its ports are read only once both run.
  const security = createSecurityComponent(context, { hubListeners: () => hub.listeners() });
  // The artifacts this ledge serves to the devices below it, on the hub's HTTPS listener.
  const artifacts = new ArtifactStore(context.stateDir);
  const httpsRoutes = artifactRoutes({
    store: artifacts,
    verifySasToken: (token, claimed) => security.manager.verifySasToken(token, claimed),
    ...(context.config.upstream.enabled ? { parent: () => parentEndpoint(context.config) } : {}),
  });
  // The store stays readable by the previous version until this one is confirmed (update).
  const hub = createHubComponent(context, {
    security: security.manager,
    httpsRoutes,
    compatibleStoreFormat: true,
  });
  const agent = createAgentComponent(context, { provisioner: security.manager });
  // After the hub, so it stops first; it drains the hub's `$upstream` queue.
  const upstream = createUpstreamComponent(context, { store: () => hub.store });
  // Each accepted deployment gives the hub its routes and the modules' desired twins; the
  // agent's reported state is the `$edgeAgent` twin's reported side.
  agent.agent.onDeploymentAccepted((deployment) => {
    try {
      hub.hub.applyDesired({
        edgeHub: deployment.edgeHub ?? { schemaVersion: "1.0", routes: {} },
        moduleTwins: deployment.moduleTwins,
      });
    } catch (error) {
      context.logger.error("the hub cannot take the deployment's routes", { error });
    }
  });
  // Self-update: follows the deployment's ledgeVersion; adds `ledge` to the reported properties.
  const update = createUpdateComponent(context, {
    agent: agent.agent,
    store: artifacts,
    upstreamConnected: () => upstream.upstream.state().connected,
    committed: () => hub.store.useCurrentFormat(),
    exit: hooks.exit ??
      ((code, reason) =>
        context.logger.error("cannot restart: no runner to exit to", { code, reason })),
  });
  update.agent.onReportedChange((reported) => {
    try {
      hub.hub.setEdgeAgentReported(reported as unknown as Record<string, unknown>);
    } catch { /* the hub is not started yet; the agent reports again on change */ }
  });
  // After the upstream component: what the parent says becomes deployments, twins, methods and
  // C2D here; local reported properties go up; connected clients hold their upstream identity.
  const link = createUpstreamLink(context, {
    upstream: upstream.upstream,
    hub: () => hub.hub,
    agent: update.agent,
  });
  const fleet = fleetComponent(context, security, hub);
  const metrics = createMetricsComponent(context);
  metrics.metrics.add(
    ...hubFamilies(() => hub.hub),
    ...agentFamilies(agent.agent),
    ...certificateFamilies(() => security.manager.certificates()),
    ...upstream.upstream.metricFamilies(),
  );
  const console = createConsoleComponent(context, {
    agent: agent.agent,
    hub: () => hub.hub,
    security: security.manager,
    upstream: upstream.upstream,
    fleet: () => fleet.service,
    checks: hooks.checks,
  });
  return [security, hub, agent, upstream, link, fleet, update, metrics, console];
}
