/**
 * The daemon's side of the upstream link: what the parent says becomes local state, and local
 * state goes up.
 *
 * - **Deployments.** This device's `$edgeAgent` and `$edgeHub` desired twins on the parent (and
 *   the desired twins of its connected modules) are combined into one `modulesContent` and
 *   given to the agent (`source: "upstream"`), 100 ms after the last change, unless it is what
 *   already runs. A parent with no `$edgeAgent` desired leaves the local deployment alone. A
 *   rejected manifest changes nothing; the agent's `lastDesiredStatus` (400 and the reason) goes
 *   back up with its reported properties.
 * - **Reported properties.** The agent's `$edgeAgent` reported properties go up as merge-patch
 *   diffs against what the parent holds (its twin, read on each connect); a client's reported
 *   patch here goes up as it came.
 * - **Identities below** (modules, leaf devices and, on a parent, a child's identities): each
 *   client connected to this hub has its connection to the parent held while it is connected, so
 *   desired patches, methods and C2D for it come down. Desired properties the parent holds for it
 *   are mirrored into the local twin (which pushes them on down); a parent with no desired
 *   properties for it leaves the local ones alone. So the highest ancestor that holds desired
 *   properties for an identity wins; the others' apply while it holds none.
 * - **Methods** for this device's identities and those below are relayed to the hub and
 *   answered; `ping` on `$edgeAgent` is answered here. **C2D** for a device goes into its queue.
 */
import type { Agent } from "../agent/mod.ts";
import { ManifestError } from "../agent/mod.ts";
import type { Hub } from "../hub/mod.ts";
import {
  diffProperties,
  type IdentityRef,
  mergePatch,
  stableJson,
  type TwinProperties,
} from "../iothub/mod.ts";
import type { UpstreamHandlers } from "./downstream.ts";
import type { Upstream } from "./upstream_component.ts";
import type { Component, RuntimeContext } from "../core/component.ts";

/** What the link connects. */
export interface UpstreamLinkParts {
  upstream: Upstream;
  /** The running hub (throws before the hub starts). */
  hub: () => Hub;
  agent: Agent;
  /** Delay before a changed deployment from the parent is applied (default 100 ms). */
  deployDelayMs?: number;
}

function withoutMetadata(properties: TwinProperties | undefined): TwinProperties {
  const out: TwinProperties = {};
  for (const [key, value] of Object.entries(properties ?? {})) {
    if (!key.startsWith("$")) out[key] = value;
  }
  return out;
}

function isEmpty(properties: TwinProperties): boolean {
  return Object.keys(properties).length === 0;
}

/** The parent's view of this device's deployment twins. */
interface ParentDeployment {
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
function deploymentKey(content: Record<string, unknown> | undefined): string {
  const section = (name: string) =>
    (content?.[name] as { "properties.desired"?: unknown } | undefined)?.["properties.desired"];
  return stableJson([
    section("$edgeAgent"),
    withoutMetadata(section("$edgeHub") as TwinProperties),
  ]);
}

/**
 * Creates the link component; start it after the upstream component (it stops before it).
 *
 * @example
 * ```ts
 * const link = createUpstreamLink(context, { upstream: up.upstream, hub: () => hub.hub, agent });
 * ```
 */
export function createUpstreamLink(context: RuntimeContext, parts: UpstreamLinkParts): Component {
  const { config } = context;
  const logger = context.logger.child("upstream-link");
  const { upstream, agent } = parts;
  const ownId = config.device.id.toLowerCase();
  const parent: ParentDeployment = {
    agent: undefined,
    agentVersion: undefined,
    hub: undefined,
    hubVersion: undefined,
    modules: new Map(),
  };
  /** The `$edgeAgent` reported properties the parent holds, as far as this side knows. */
  let agentReportedAtParent: TwinProperties | undefined;
  let deployTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = true;
  const holds = new Map<string, (() => void)[]>();
  const unsubscribe: (() => void)[] = [];

  function isOwn(identity: IdentityRef): boolean {
    return identity.deviceId.toLowerCase() === ownId;
  }
  function label(identity: IdentityRef): string {
    return identity.moduleId === undefined
      ? identity.deviceId
      : `${identity.deviceId}/${identity.moduleId}`;
  }
  function target(identity: IdentityRef): IdentityRef {
    return identity.moduleId === undefined
      ? { deviceId: identity.deviceId }
      : { deviceId: identity.deviceId, moduleId: identity.moduleId };
  }

  function scheduleDeploy(): void {
    if (stopped) return;
    if (deployTimer !== undefined) clearTimeout(deployTimer);
    deployTimer = setTimeout(deployFromParent, parts.deployDelayMs ?? 100);
  }

  async function deployFromParent(): Promise<void> {
    deployTimer = undefined;
    const content = deploymentFromTwins(parent);
    if (content === undefined) return;
    const current = agent.current();
    if (current && deploymentKey(current.manifest) === deploymentKey(content)) return;
    try {
      const result = await agent.deploy(content, { source: "upstream" });
      if (result.rolledBack !== undefined) {
        logger.warn("deployment from the parent not applied: this device rolled it back", {
          version: result.version,
          reason: result.rolledBack,
        });
        return;
      }
      logger.info("deployment from the parent accepted", {
        version: result.version,
        modules: result.modules,
      });
    } catch (error) {
      // The agent keeps the old deployment and reports lastDesiredStatus; that goes up.
      if (!(error instanceof ManifestError)) {
        logger.error("cannot apply the deployment from the parent", { error });
      }
    }
  }

  function syncAgentReported(): void {
    if (stopped || agentReportedAtParent === undefined) return;
    const current = withoutMetadata(agent.reported() as unknown as TwinProperties);
    const patch = diffProperties(agentReportedAtParent, current);
    if (isEmpty(patch)) return;
    agentReportedAtParent = current;
    void upstream.patchReported({ deviceId: config.device.id, moduleId: "$edgeAgent" }, patch)
      .then((accepted) => {
        // Refused (or stopped): what the parent holds is unknown until the next twin.
        if (!accepted) agentReportedAtParent = undefined;
      });
  }

  /** Makes the local desired properties of `identity` the parent's, when it has any. */
  function mirrorDesired(identity: IdentityRef, parentDesired: TwinProperties): void {
    const wanted = withoutMetadata(parentDesired);
    if (isEmpty(wanted)) return;
    const hub = parts.hub();
    const patch = diffProperties(withoutMetadata(hub.getTwin(identity).desired), wanted);
    if (!isEmpty(patch)) hub.patchDesired(identity, patch);
  }

  /** Sends the parent what differs between its reported properties and the local ones. */
  function pushReported(identity: IdentityRef, parentReported: TwinProperties): void {
    const local = withoutMetadata(parts.hub().getTwin(identity).reported);
    const patch = diffProperties(withoutMetadata(parentReported), local);
    if (!isEmpty(patch)) void upstream.patchReported(identity, patch);
  }

  const handlers: UpstreamHandlers = {
    onTwin(upIdentity, twin) {
      if (stopped) return;
      const identity = target(upIdentity);
      if (isOwn(identity) && identity.moduleId === "$edgeAgent") {
        parent.agent = withoutMetadata(twin.desired);
        parent.agentVersion = typeof twin.desired.$version === "number"
          ? twin.desired.$version
          : undefined;
        agentReportedAtParent = withoutMetadata(twin.reported);
        syncAgentReported();
        scheduleDeploy();
        return;
      }
      if (isOwn(identity) && identity.moduleId === "$edgeHub") {
        parent.hub = withoutMetadata(twin.desired);
        scheduleDeploy();
        return;
      }
      if (isOwn(identity) && identity.moduleId !== undefined) {
        parent.modules.set(identity.moduleId, withoutMetadata(twin.desired));
      }
      mirrorDesired(identity, twin.desired);
      pushReported(identity, twin.reported);
    },
    onDesired(upIdentity, patch) {
      if (stopped) return;
      const identity = target(upIdentity);
      const version = typeof patch.$version === "number" ? patch.$version : undefined;
      if (isOwn(identity) && identity.moduleId === "$edgeAgent") {
        parent.agent = mergePatch(parent.agent ?? {}, patch);
        parent.agentVersion = version ?? parent.agentVersion;
        scheduleDeploy();
        return;
      }
      if (isOwn(identity) && identity.moduleId === "$edgeHub") {
        parent.hub = mergePatch(parent.hub ?? {}, patch);
        scheduleDeploy();
        return;
      }
      if (isOwn(identity) && identity.moduleId !== undefined) {
        parent.modules.set(
          identity.moduleId,
          mergePatch(parent.modules.get(identity.moduleId) ?? {}, patch),
        );
      }
      const properties = withoutMetadata(patch);
      if (!isEmpty(properties)) parts.hub().patchDesired(identity, properties);
    },
    async onMethod(upIdentity, request) {
      const identity = target(upIdentity);
      if (isOwn(identity) && identity.moduleId === "$edgeAgent" && request.methodName === "ping") {
        return { status: 200, payload: null };
      }
      const result = await parts.hub().invokeMethod(identity, {
        methodName: request.methodName,
        payload: request.payload,
      });
      return { status: result.status, payload: result.payload };
    },
    async onC2D(deviceId, message) {
      await parts.hub().sendC2D(deviceId, {
        body: message.body,
        properties: message.appProperties,
      });
    },
  };
  upstream.setHandlers(handlers);

  function clientChanged(identity: IdentityRef, connected: boolean): void {
    if (stopped) return;
    const key = label(identity).toLowerCase();
    const list = holds.get(key) ?? [];
    if (connected) {
      list.push(upstream.hold(identity));
      holds.set(key, list);
      return;
    }
    list.pop()?.();
    if (list.length === 0) holds.delete(key);
  }

  return {
    name: "upstream-link",
    start() {
      stopped = false;
      if (!config.upstream.enabled) return Promise.resolve();
      const hub = parts.hub();
      unsubscribe.push(hub.onClientChange(clientChanged));
      unsubscribe.push(hub.onReportedPatch((identity, patch) => {
        if (isOwn(identity) && identity.moduleId === "$edgeAgent") return;
        void upstream.patchReported(identity, patch);
      }));
      unsubscribe.push(agent.onReportedChange(syncAgentReported));
      // Clients that connected before the link started.
      for (const client of hub.stats().clients) {
        const slash = client.indexOf("/");
        clientChanged(
          slash < 0
            ? { deviceId: client }
            : { deviceId: client.slice(0, slash), moduleId: client.slice(slash + 1) },
          true,
        );
      }
      logger.debug("linked to the upstream connector");
      return Promise.resolve();
    },
    stop() {
      stopped = true;
      if (deployTimer !== undefined) clearTimeout(deployTimer);
      deployTimer = undefined;
      for (const off of unsubscribe.splice(0)) off();
      for (const list of holds.values()) for (const release of list) release();
      holds.clear();
      return Promise.resolve();
    },
  };
}
