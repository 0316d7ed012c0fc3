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
  identityKey,
  type IdentityRef,
  identityRef,
  mergePatch,
  type TwinProperties,
} from "../iothub/mod.ts";
import type { UpstreamHandlers, UpstreamMethodRequest } from "./downstream.ts";
import {
  deploymentFromTwins,
  deploymentKey,
  isEmpty,
  type ParentDeployment,
  withoutMetadata,
} from "./parent_deployment.ts";
import type { TwinDocument } from "./twin_requests.ts";
import type { Upstream } from "./upstream_component.ts";
import type { Component, RuntimeContext } from "../core/component.ts";
import type { Logger } from "../core/log.ts";

export { deploymentFromTwins } from "./parent_deployment.ts";

/** What the link connects. */
export interface UpstreamLinkParts {
  upstream: Upstream;
  /** The running hub (throws before the hub starts). */
  hub: () => Hub;
  agent: Agent;
  /** Delay before a changed deployment from the parent is applied (default 100 ms). */
  deployDelayMs?: number;
}

/** The link: a component that starts after the upstream component and stops before it. */
class UpstreamLink implements Component {
  readonly name = "upstream-link";
  readonly #context: RuntimeContext;
  readonly #parts: UpstreamLinkParts;
  readonly #logger: Logger;
  readonly #ownId: string;
  readonly #parent: ParentDeployment = {
    agent: undefined,
    agentVersion: undefined,
    hub: undefined,
    hubVersion: undefined,
    modules: new Map(),
  };
  /** The `$edgeAgent` reported properties the parent holds, as far as this side knows. */
  #agentReportedAtParent: TwinProperties | undefined;
  #deployTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = true;
  readonly #holds = new Map<string, (() => void)[]>();
  readonly #unsubscribe: (() => void)[] = [];

  constructor(context: RuntimeContext, parts: UpstreamLinkParts) {
    this.#context = context;
    this.#parts = parts;
    this.#logger = context.logger.child("upstream-link");
    this.#ownId = context.config.device.id.toLowerCase();
    const handlers: UpstreamHandlers = {
      onTwin: (identity, twin) => this.#onTwin(identityRef(identity), twin),
      onDesired: (identity, patch) => this.#onDesired(identityRef(identity), patch),
      onMethod: (identity, request) => this.#onMethod(identityRef(identity), request),
      onC2D: async (deviceId, message) => {
        await parts.hub().sendC2D(deviceId, {
          body: message.body,
          properties: message.appProperties,
        });
      },
    };
    parts.upstream.setHandlers(handlers);
  }

  start(): Promise<void> {
    this.#stopped = false;
    if (!this.#context.config.upstream.enabled) return Promise.resolve();
    const hub = this.#parts.hub();
    this.#unsubscribe.push(
      hub.onClientChange((identity, connected) => this.#clientChanged(identity, connected)),
      hub.onReportedPatch((identity, patch) => {
        if (this.#isOwn(identity) && identity.moduleId === "$edgeAgent") return;
        void this.#parts.upstream.patchReported(identity, patch);
      }),
      this.#parts.agent.onReportedChange(() => this.#syncAgentReported()),
    );
    // Clients that connected before the link started.
    for (const client of hub.stats().clients) {
      const slash = client.indexOf("/");
      const identity = slash < 0
        ? { deviceId: client }
        : { deviceId: client.slice(0, slash), moduleId: client.slice(slash + 1) };
      this.#clientChanged(identity, true);
    }
    this.#logger.debug("linked to the upstream connector");
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#deployTimer !== undefined) clearTimeout(this.#deployTimer);
    this.#deployTimer = undefined;
    for (const off of this.#unsubscribe.splice(0)) off();
    for (const list of this.#holds.values()) for (const release of list) release();
    this.#holds.clear();
    return Promise.resolve();
  }

  #isOwn(identity: IdentityRef): boolean {
    return identity.deviceId.toLowerCase() === this.#ownId;
  }

  #scheduleDeploy(): void {
    if (this.#stopped) return;
    if (this.#deployTimer !== undefined) clearTimeout(this.#deployTimer);
    this.#deployTimer = setTimeout(
      () => this.#deployFromParent(),
      this.#parts.deployDelayMs ?? 100,
    );
  }

  async #deployFromParent(): Promise<void> {
    this.#deployTimer = undefined;
    const content = deploymentFromTwins(this.#parent);
    if (content === undefined) return;
    const { agent } = this.#parts;
    const current = agent.current();
    if (current && deploymentKey(current.manifest) === deploymentKey(content)) return;
    try {
      const result = await agent.deploy(content, { source: "upstream" });
      if (result.rolledBack !== undefined) {
        this.#logger.warn("deployment from the parent not applied: this device rolled it back", {
          version: result.version,
          reason: result.rolledBack,
        });
        return;
      }
      this.#logger.info("deployment from the parent accepted", {
        version: result.version,
        modules: result.modules,
      });
    } catch (error) {
      // The agent keeps the old deployment and reports lastDesiredStatus; that goes up.
      if (!(error instanceof ManifestError)) {
        this.#logger.error("cannot apply the deployment from the parent", { error });
      }
    }
  }

  #syncAgentReported(): void {
    if (this.#stopped || this.#agentReportedAtParent === undefined) return;
    const current = withoutMetadata(this.#parts.agent.reported() as unknown as TwinProperties);
    const patch = diffProperties(this.#agentReportedAtParent, current);
    if (isEmpty(patch)) return;
    this.#agentReportedAtParent = current;
    const identity = { deviceId: this.#context.config.device.id, moduleId: "$edgeAgent" };
    void this.#parts.upstream.patchReported(identity, patch).then((accepted) => {
      // Refused (or stopped): what the parent holds is unknown until the next twin.
      if (!accepted) this.#agentReportedAtParent = undefined;
    });
  }

  /** Makes the local desired properties of `identity` the parent's, when it has any. */
  #mirrorDesired(identity: IdentityRef, parentDesired: TwinProperties): void {
    const wanted = withoutMetadata(parentDesired);
    if (isEmpty(wanted)) return;
    const hub = this.#parts.hub();
    const patch = diffProperties(withoutMetadata(hub.getTwin(identity).desired), wanted);
    if (!isEmpty(patch)) hub.patchDesired(identity, patch);
  }

  /** Sends the parent what differs between its reported properties and the local ones. */
  #pushReported(identity: IdentityRef, parentReported: TwinProperties): void {
    const local = withoutMetadata(this.#parts.hub().getTwin(identity).reported);
    const patch = diffProperties(withoutMetadata(parentReported), local);
    if (!isEmpty(patch)) void this.#parts.upstream.patchReported(identity, patch);
  }

  #onTwin(identity: IdentityRef, twin: TwinDocument): void {
    if (this.#stopped) return;
    const own = this.#isOwn(identity);
    if (own && identity.moduleId === "$edgeAgent") {
      this.#parent.agent = withoutMetadata(twin.desired);
      this.#parent.agentVersion = typeof twin.desired.$version === "number"
        ? twin.desired.$version
        : undefined;
      this.#agentReportedAtParent = withoutMetadata(twin.reported);
      this.#syncAgentReported();
      this.#scheduleDeploy();
      return;
    }
    if (own && identity.moduleId === "$edgeHub") {
      this.#parent.hub = withoutMetadata(twin.desired);
      this.#scheduleDeploy();
      return;
    }
    if (own && identity.moduleId !== undefined) {
      this.#parent.modules.set(identity.moduleId, withoutMetadata(twin.desired));
    }
    this.#mirrorDesired(identity, twin.desired);
    this.#pushReported(identity, twin.reported);
  }

  #onDesired(identity: IdentityRef, patch: TwinProperties): void {
    if (this.#stopped) return;
    const own = this.#isOwn(identity);
    const version = typeof patch.$version === "number" ? patch.$version : undefined;
    const parent = this.#parent;
    if (own && identity.moduleId === "$edgeAgent") {
      parent.agent = mergePatch(parent.agent ?? {}, patch);
      parent.agentVersion = version ?? parent.agentVersion;
      this.#scheduleDeploy();
      return;
    }
    if (own && identity.moduleId === "$edgeHub") {
      parent.hub = mergePatch(parent.hub ?? {}, patch);
      this.#scheduleDeploy();
      return;
    }
    if (own && identity.moduleId !== undefined) {
      const previous = parent.modules.get(identity.moduleId) ?? {};
      parent.modules.set(identity.moduleId, mergePatch(previous, patch));
    }
    const properties = withoutMetadata(patch);
    if (!isEmpty(properties)) this.#parts.hub().patchDesired(identity, properties);
  }

  async #onMethod(identity: IdentityRef, request: UpstreamMethodRequest) {
    if (
      this.#isOwn(identity) && identity.moduleId === "$edgeAgent" && request.methodName === "ping"
    ) {
      return { status: 200, payload: null };
    }
    const result = await this.#parts.hub().invokeMethod(identity, {
      methodName: request.methodName,
      payload: request.payload,
    });
    return { status: result.status, payload: result.payload };
  }

  #clientChanged(identity: IdentityRef, connected: boolean): void {
    if (this.#stopped) return;
    const key = identityKey(identity);
    const list = this.#holds.get(key) ?? [];
    if (connected) {
      list.push(this.#parts.upstream.hold(identity));
      this.#holds.set(key, list);
      return;
    }
    list.pop()?.();
    if (list.length === 0) this.#holds.delete(key);
  }
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
  return new UpstreamLink(context, parts);
}
