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
import { createUpstreamComponent, createUpstreamLink } from "../upstream/mod.ts";
import { createSecurityComponent } from "../security/mod.ts";
import type { Component, RuntimeContext } from "../core/component.ts";
import { agentFamilies, certificateFamilies, hubFamilies } from "./ledge_metrics.ts";
import { createMetricsComponent } from "./metrics.ts";
import { type ConsoleCheck, createConsoleComponent } from "./console/mod.ts";

/** What the composition root adds from the layers above the daemon. */
export interface ComponentHooks {
  /** `ledge check`'s checks (ops/), for the console's overview. */
  checks?: () => Promise<ConsoleCheck[]>;
}

/** Builds the components of a daemon for `context`, in start order. */
export function buildComponents(context: RuntimeContext, hooks: ComponentHooks = {}): Component[] {
  // The hub is created next; its ports are read only once both run.
  const security = createSecurityComponent(context, { hubListeners: () => hub.listeners() });
  const hub = createHubComponent(context, { security: security.manager });
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
  agent.agent.onReportedChange((reported) => {
    try {
      hub.hub.setEdgeAgentReported(reported as unknown as Record<string, unknown>);
    } catch { /* the hub is not started yet; the agent reports again on change */ }
  });
  // After the upstream component: what the parent says becomes deployments, twins, methods and
  // C2D here; local reported properties go up; connected clients hold their upstream identity.
  const link = createUpstreamLink(context, {
    upstream: upstream.upstream,
    hub: () => hub.hub,
    agent: agent.agent,
  });
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
    checks: hooks.checks,
  });
  return [security, hub, agent, upstream, link, metrics, console];
}
