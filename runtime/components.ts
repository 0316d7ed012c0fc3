/**
 * The daemon's components in start order. Each part of ledge plugs in here:
 * security first (identities and certificates), then the hub (needs certificates), then the
 * agent (needs identities for the modules it runs, and the hub for their routes).
 */
import { createAgentComponent } from "../agent/mod.ts";
import { createHubComponent } from "../hub/mod.ts";
import { createSecurityComponent } from "../security/mod.ts";
import type { Component, RuntimeContext } from "./component.ts";

/** Builds the components of a daemon for `context`, in start order. */
export function buildComponents(context: RuntimeContext): Component[] {
  const security = createSecurityComponent(context);
  const hub = createHubComponent(context, { security: security.manager });
  const agent = createAgentComponent(context, { provisioner: security.manager });
  return [security, hub, agent];
}
