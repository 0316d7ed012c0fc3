/**
 * A deployment as `ledge deployment show` and the API present it: what was created, IoT Hub's
 * system metrics and the custom metrics with the device ids behind each, the rollout's progress,
 * and per targeted device what happened: applied (with its outcome), overridden by which
 * deployment (and whether by a tie of equal priority, which the later-created one wins), withheld
 * by the rollout, or waiting for a base.
 *
 * @module
 */
import type { StoredDeployment } from "./deployment_config.ts";
import {
  type DeviceStatus,
  outcome,
  type SystemMetrics,
  systemMetrics,
} from "./deployment_metrics.ts";
import { parseQuery } from "./query_parser.ts";
import { holds } from "./query_eval.ts";
import type { FleetTwins } from "./twin_documents.ts";

/** What happened to one targeted device. */
export interface DeviceOutcome {
  deviceId: string;
  status: "applied" | "overridden" | "withheld" | "no-base" | "not-written";
  /** For applied devices: what the device reports for the version it was given. */
  outcome?: "success" | "failed" | "pending";
  /** `lastDesiredStatus.description`, when the device reported one. */
  description?: string;
  /** The base deployment that applies instead. */
  overriddenBy?: string;
  /** Set when it lost (or won) a tie of equal priority: the later-created one wins. */
  tie?: { winner: string; others: string[] };
  /** Why the fleet could not write the content. */
  error?: string;
}

/** A deployment with everything the parent knows about it. */
export interface DeploymentView
  extends Omit<StoredDeployment, "rolloutState" | "sequence" | "metrics"> {
  metrics: {
    queries: Record<string, string>;
    results: Record<string, number>;
    deviceIds: Record<string, string[]>;
  };
  systemMetrics: SystemMetrics;
  /** True when the target condition selects no device now (not an error). */
  targetsNoDevice: boolean;
  rollout?: StoredDeployment["rollout"] & {
    status: "rolling" | "completed" | "aborted" | "not started";
    /** The current wave, 1-based. */
    wave: number;
    releasedDeviceIds: string[];
    reason?: string;
    returnedDeviceIds?: string[];
  };
  devices: DeviceOutcome[];
}

/** The summary `ledge deployment list` shows. */
export function summarizeDeployment(
  deployment: StoredDeployment,
  statuses: readonly DeviceStatus[],
) {
  return {
    id: deployment.id,
    layered: deployment.layered,
    priority: deployment.priority,
    targetCondition: deployment.targetCondition,
    labels: deployment.labels,
    createdTimeUtc: deployment.createdTimeUtc,
    systemMetrics: { results: systemMetrics(deployment.id, statuses).results },
    ...(deployment.rollout === undefined
      ? {}
      : { rolloutStatus: deployment.rolloutState?.status ?? "not started" }),
  };
}

function customMetrics(deployment: StoredDeployment, twins: FleetTwins): DeploymentView["metrics"] {
  const results: Record<string, number> = {};
  const deviceIds: Record<string, string[]> = {};
  for (const [name, text] of Object.entries(deployment.metrics.queries)) {
    const ast = parseQuery(text, { subject: `metric ${name}` });
    const docs = ast.from === "devices"
      ? [...twins.devices.values()].map((device) => device.doc)
      : [...twins.modules.values()];
    const ids = new Set<string>();
    for (const doc of docs) if (holds(ast.where, doc)) ids.add(String(doc.deviceId));
    deviceIds[name] = [...ids].sort();
    results[name] = ids.size;
  }
  return { queries: deployment.metrics.queries, results, deviceIds };
}

function deviceOutcome(id: string, status: DeviceStatus, error: string | undefined): DeviceOutcome {
  const decision = status.decision;
  const out: DeviceOutcome = { deviceId: status.deviceId, status: "applied" };
  if (decision.withheld.includes(id)) out.status = "withheld";
  else if (decision.layersWithoutBase.includes(id)) out.status = "no-base";
  else if (decision.base !== id && !decision.layers.includes(id)) {
    out.status = "overridden";
    out.overriddenBy = decision.base!;
  } else if (!status.applied.includes(id)) out.status = "not-written";
  if (decision.base !== undefined && (decision.base === id || decision.tiedWith.includes(id))) {
    if (decision.tiedWith.length > 0) {
      out.tie = { winner: decision.base, others: decision.tiedWith };
    }
  }
  if (out.status === "applied") {
    out.outcome = outcome(status);
    if (status.reportedDescription) out.description = status.reportedDescription;
  }
  if (error !== undefined && out.status !== "overridden") out.error = error;
  return out;
}

/** Builds the view of `deployment`. */
export function describeDeployment(
  deployment: StoredDeployment,
  fleet: {
    twins: FleetTwins;
    statuses: readonly DeviceStatus[];
    errorOf: (id: string) => string | undefined;
  },
): DeploymentView {
  const { rolloutState, sequence: _sequence, rollout: _rollout, ...rest } = deployment;
  const system = systemMetrics(deployment.id, fleet.statuses);
  const devices = fleet.statuses
    .filter((status) => status.decision.targeted.includes(deployment.id))
    .map((status) => deviceOutcome(deployment.id, status, fleet.errorOf(status.deviceId)))
    .sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
  const view: DeploymentView = {
    ...rest,
    metrics: customMetrics(deployment, fleet.twins),
    systemMetrics: system,
    targetsNoDevice: system.results.targetedCount === 0,
    devices,
  };
  if (deployment.rollout !== undefined) {
    view.rollout = {
      ...deployment.rollout,
      status: rolloutState?.status ?? "not started",
      wave: (rolloutState?.wave ?? 0) + 1,
      releasedDeviceIds: rolloutState?.released ?? [],
      ...(rolloutState?.reason === undefined ? {} : { reason: rolloutState.reason }),
      ...(rolloutState?.returned === undefined ? {} : { returnedDeviceIds: rolloutState.returned }),
    };
  }
  return view;
}
