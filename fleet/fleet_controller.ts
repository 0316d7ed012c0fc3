/**
 * The fleet's control loop at a parent: re-evaluates every deployment's targets whenever
 * something they depend on changes (tags, deployments, a device registering or connecting, an
 * `$edgeAgent` report during a rollout) and every few seconds, advances staged rollouts, decides
 * per device what applies, and writes it into the device's twins here, from where the device
 * (or the chain of ledges down to it) takes it. Passes run one at a time; a change during a pass
 * schedules another.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { Identity } from "../security/mod.ts";
import { stableJson } from "../iothub/mod.ts";
import type { StoredDeployment } from "./deployment_config.ts";
import type { ModulesContent } from "./deployment_content.ts";
import { type DeviceStatus, outcome } from "./deployment_metrics.ts";
import {
  type ActiveDeployment,
  contentOf,
  decide,
  type Decision,
  type DeviceView,
  targets,
} from "./deployment_resolution.ts";
import type { AppliedRecord, DeploymentStore } from "./deployment_store.ts";
import type { DeviceRecords } from "./device_records.ts";
import type { EnrollmentStore } from "./enrollment_store.ts";
import { parseCondition } from "./query_parser.ts";
import { advanceRollout, type RolloutOutcome, rolloutReleases } from "./rollout.ts";
import { twinContentPatches } from "./twin_content.ts";
import { type FleetHub, type FleetTwins, fleetTwins } from "./twin_documents.ts";

/** What the controller works on. */
export interface FleetParts {
  hub: () => FleetHub;
  identities: () => readonly Identity[];
  ownDeviceId: string;
  records: DeviceRecords;
  deployments: DeploymentStore;
  enrollments: EnrollmentStore;
  logger: Logger;
  now: () => number;
  /** Debounce of a scheduled pass (default 50 ms). */
  delayMs?: number;
  /** Period of the background pass (default 5000 ms; 1000 ms while a rollout runs). */
  periodMs?: number;
}

const AGENT = "$edgeAgent";

/** The fleet's control loop. */
export class FleetController {
  readonly #parts: FleetParts;
  readonly #decisions = new Map<string, Decision>();
  readonly #errors = new Map<string, string>();
  readonly #conditions = new Map<
    string,
    { text: string; condition: ActiveDeployment["condition"] }
  >();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;
  #stopped = true;
  #dueAt = 0;
  #lastPassEnd = 0;
  #lastPassMs = 0;

  constructor(parts: FleetParts) {
    this.#parts = parts;
  }

  start(): void {
    this.#stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /**
   * Asks for a pass soon. Changes within the delay share one pass, a stream of changes does not
   * postpone it, and passes keep a pause of four times their own duration between them, so a
   * thousand devices connecting at once cost a few passes, not a thousand.
   */
  schedule(delayMs = this.#parts.delayMs ?? 50): void {
    if (this.#stopped) return;
    this.#dirty = true;
    if (this.#running) return;
    const now = performance.now();
    const dueAt = Math.max(now + delayMs, this.#lastPassEnd + 4 * this.#lastPassMs);
    if (this.#timer !== undefined && this.#dueAt <= dueAt) return;
    clearTimeout(this.#timer);
    this.#dueAt = dueAt;
    this.#timer = setTimeout(() => this.#run(), dueAt - now);
  }

  /** Runs a pass now (after the one running) and resolves when no change is left unevaluated. */
  async settle(): Promise<void> {
    this.#dirty = true;
    while (this.#dirty && !this.#stopped) {
      clearTimeout(this.#timer);
      if (this.#running) await this.#running;
      else await this.#run();
    }
  }

  /** The last decision for `deviceId`. */
  decision(deviceId: string): Decision | undefined {
    return this.#decisions.get(deviceId.toLowerCase());
  }

  /** Why the fleet could not write a device's content, if it could not. */
  error(deviceId: string): string | undefined {
    return this.#errors.get(deviceId.toLowerCase());
  }

  /** The fleet's twins, with IoT Hub's `configurations` from the last decisions. */
  twins(): FleetTwins {
    return fleetTwins({
      hub: this.#parts.hub(),
      identities: this.#parts.identities(),
      records: (id) => this.#parts.records.get(id),
      ownDeviceId: this.#parts.ownDeviceId,
      configurations: (id) => this.#configurations(id),
    });
  }

  /** Each edge device's deployment state, for metrics. */
  statuses(twins: FleetTwins = this.twins()): DeviceStatus[] {
    const statuses: DeviceStatus[] = [];
    for (const [key, device] of twins.devices) {
      const decision = this.#decisions.get(key);
      if (decision === undefined) continue;
      statuses.push(this.#status(device.deviceId, decision));
    }
    return statuses;
  }

  /** The condition of `deployment`, parsed once per text. */
  condition(deployment: StoredDeployment): ActiveDeployment["condition"] {
    const cached = this.#conditions.get(deployment.id);
    if (cached?.text === deployment.targetCondition) return cached.condition;
    const text = deployment.targetCondition.trim();
    const condition = text === "*" ? "all" : parseCondition(text, { subject: "target condition" });
    this.#conditions.set(deployment.id, { text: deployment.targetCondition, condition });
    return condition;
  }

  #configurations(deviceId: string): Record<string, { status: string }> {
    const decision = this.#decisions.get(deviceId.toLowerCase());
    const applied = new Set(this.#parts.deployments.applied(deviceId)?.deployments ?? []);
    const out: Record<string, { status: string }> = {};
    for (const id of decision?.targeted ?? []) {
      out[id] = { status: applied.has(id) ? "Applied" : "Targeted" };
    }
    return out;
  }

  #status(deviceId: string, decision: Decision): DeviceStatus {
    const twin = this.#parts.hub().getTwin({ deviceId, moduleId: AGENT });
    const reported = twin.reported as {
      lastDesiredVersion?: unknown;
      lastDesiredStatus?: { code?: unknown; description?: unknown };
      deploymentHealth?: { version?: unknown; state?: unknown; reason?: unknown };
    };
    const number = (value: unknown) => (typeof value === "number" ? value : undefined);
    return {
      deviceId,
      decision,
      applied: this.#parts.deployments.applied(deviceId)?.deployments ?? [],
      desiredVersion: number(twin.desired.$version),
      reportedVersion: number(reported.lastDesiredVersion),
      reportedCode: number(reported.lastDesiredStatus?.code),
      reportedDescription: typeof reported.lastDesiredStatus?.description === "string" &&
          reported.lastDesiredStatus.description !== ""
        ? reported.lastDesiredStatus.description
        : typeof reported.deploymentHealth?.reason === "string"
        ? reported.deploymentHealth.reason
        : undefined,
      health: reported.deploymentHealth === undefined ? undefined : {
        version: number(reported.deploymentHealth.version),
        state: typeof reported.deploymentHealth.state === "string"
          ? reported.deploymentHealth.state
          : undefined,
      },
    };
  }

  async #run(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dirty = false;
    const begun = performance.now();
    const pass = this.#pass().catch((error) =>
      this.#parts.logger.error("the fleet's evaluation failed", { error })
    );
    this.#running = pass;
    await pass;
    this.#running = undefined;
    this.#lastPassEnd = performance.now();
    this.#lastPassMs = this.#lastPassEnd - begun;
    if (this.#stopped) return;
    const rolling = this.#parts.deployments.list().some((d) =>
      d.rolloutState?.status === "rolling"
    );
    const period = rolling ? 1000 : this.#parts.periodMs ?? 5000;
    if (this.#dirty) return this.schedule();
    this.#dueAt = performance.now() + period;
    this.#timer = setTimeout(() => this.#run(), period);
  }

  async #pass(): Promise<void> {
    const twins = this.twins();
    const views: DeviceView[] = [...twins.devices.values()].map((device) => ({
      deviceId: device.deviceId,
      doc: device.doc,
      assigned: this.#assigned(device.deviceId),
    }));
    const aborted = await this.#advanceRollouts(views);
    const deployments = this.#parts.deployments.list();
    const active = deployments.map((record) => ({ record, condition: this.condition(record) }));
    const byId = new Map(deployments.map((deployment) => [deployment.id, deployment]));
    const releases = new Map(deployments.map((d) => [d.id, rolloutReleases(d.rolloutState)]));
    const saves: Promise<void>[] = [];
    let written = 0;
    for (const view of views) {
      const decision = decide(view, active, (d, id) => releases.get(d.id)!(id));
      this.#decisions.set(view.deviceId.toLowerCase(), decision);
      const save = this.#apply(view.deviceId, decision, byId, aborted);
      if (save === undefined) continue;
      saves.push(save);
      // Twin writes are synchronous: let the hub serve its clients between batches.
      if (++written % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await Promise.all(saves);
  }

  #assigned(deviceId: string): string[] {
    const group = this.#parts.records.get(deviceId)?.enrollmentGroupId;
    const deployment = group === undefined
      ? undefined
      : this.#parts.enrollments.get(group)?.deployment;
    return deployment === undefined ? [] : [deployment];
  }

  /** Advances every running rollout; returns the ids of deployments that are aborted. */
  async #advanceRollouts(views: readonly DeviceView[]): Promise<Set<string>> {
    const aborted = new Set<string>();
    for (const record of this.#parts.deployments.list()) {
      if (record.rollout === undefined) continue;
      const state = record.rolloutState;
      if (state?.status === "aborted") aborted.add(record.id);
      if (state !== undefined && state.status !== "rolling") continue;
      const active = { record, condition: this.condition(record) };
      const targeted = views.filter((view) => targets(active, view)).map((view) => view.deviceId);
      const next = advanceRollout(state, {
        deploymentId: record.id,
        spec: record.rollout,
        targeted,
        outcomeOf: (id) => this.#rolloutOutcome(record.id, id),
        failureOf: (id) => this.#status(id, this.decision(id)!).reportedDescription,
        now: this.#parts.now(),
      });
      if (stableJson(next) === stableJson(state)) continue;
      await this.#parts.deployments.setRollout(record.id, next);
      if (next.status === "aborted") {
        aborted.add(record.id);
        this.#parts.logger.warn("rollout aborted", { deployment: record.id, reason: next.reason });
      } else if (next.wave !== state?.wave || next.status !== state.status) {
        this.#parts.logger.info("rollout advanced", {
          deployment: record.id,
          wave: next.wave + 1,
          status: next.status,
          released: next.released.length,
        });
      }
    }
    return aborted;
  }

  #rolloutOutcome(deploymentId: string, deviceId: string): RolloutOutcome {
    const decision = this.decision(deviceId);
    const applied = this.#parts.deployments.applied(deviceId)?.deployments ?? [];
    if (applied.includes(deploymentId) && decision !== undefined) {
      return outcome(this.#status(deviceId, decision));
    }
    const overridden = decision !== undefined && decision.base !== deploymentId &&
      !decision.layers.includes(deploymentId) && !decision.withheld.includes(deploymentId);
    return overridden ? "not-applied" : "pending";
  }

  /** Writes what `decision` gives the device, when that changed; returns the record's save. */
  #apply(
    deviceId: string,
    decision: Decision,
    byId: ReadonlyMap<string, StoredDeployment>,
    aborted: ReadonlySet<string>,
  ): Promise<void> | undefined {
    const applied = this.#parts.deployments.applied(deviceId);
    const content = contentOf(decision, byId);
    if (content === undefined) {
      // An aborted rollout leaves its devices with nothing: they return to what ran before.
      const before = applied?.before;
      if (!applied?.deployments.some((id) => aborted.has(id)) || before === undefined) return;
      return this.#write(deviceId, before.content, { deployments: before.deployments });
    }
    const deployments = [decision.base!, ...decision.layers];
    const contentKey = stableJson(content);
    if (applied !== undefined && applied.contentKey === contentKey) {
      if (stableJson(applied.deployments) === stableJson(deployments)) return;
      return this.#parts.deployments.setApplied({ ...applied, deployments });
    }
    const rolling = deployments.some((id) => byId.get(id)?.rolloutState?.status === "rolling");
    const keep = applied?.before !== undefined &&
      applied.deployments.some((id) => byId.get(id)?.rolloutState?.status === "rolling");
    const before = rolling && !keep ? this.#currentContent(deviceId, applied) : applied?.before;
    return this.#write(deviceId, content, { deployments, before });
  }

  #write(
    deviceId: string,
    content: ModulesContent,
    record: { deployments: string[]; before?: AppliedRecord["before"] },
  ): Promise<void> | undefined {
    const hub = this.#parts.hub();
    try {
      const patches = twinContentPatches(
        content,
        (moduleId) => hub.getTwin({ deviceId, moduleId }).desired,
      );
      for (const { moduleId, patch } of patches) hub.patchDesired({ deviceId, moduleId }, patch);
      this.#errors.delete(deviceId.toLowerCase());
    } catch (error) {
      const message = (error as Error).message;
      if (this.#errors.get(deviceId.toLowerCase()) !== message) {
        this.#parts.logger.error("cannot write a device's deployment", { device: deviceId, error });
      }
      this.#errors.set(deviceId.toLowerCase(), message);
      return undefined;
    }
    const applied: AppliedRecord = {
      deviceId,
      deployments: record.deployments,
      contentKey: stableJson(content),
    };
    if (record.before !== undefined) applied.before = record.before;
    return this.#parts.deployments.setApplied(applied);
  }

  /** What the device's twins hold now, to return to if a rollout aborts. */
  #currentContent(deviceId: string, applied: AppliedRecord | undefined): AppliedRecord["before"] {
    const hub = this.#parts.hub();
    const desired = (moduleId: string) =>
      Object.fromEntries(
        Object.entries(hub.getTwin({ deviceId, moduleId }).desired).filter(([k]) =>
          !k.startsWith("$")
        ),
      );
    const agent = desired(AGENT);
    if (Object.keys(agent).length === 0) return undefined;
    const content: ModulesContent = { [AGENT]: { "properties.desired": agent } };
    const edgeHub = desired("$edgeHub");
    if (Object.keys(edgeHub).length > 0) content.$edgeHub = { "properties.desired": edgeHub };
    const modules = (agent.modules ?? {}) as Record<string, unknown>;
    for (const name of Object.keys(modules)) {
      const twin = desired(name);
      if (Object.keys(twin).length > 0) content[name] = { "properties.desired": twin };
    }
    return { deployments: applied?.deployments ?? [], content };
  }
}
