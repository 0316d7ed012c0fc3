/**
 * IoT Hub's system metrics of an edge deployment, each with the device ids behind it:
 *
 * - `targetedCount`: edge devices its target condition (or an enrollment) selects;
 * - `appliedCount`: targeted devices whose `$edgeAgent` twin holds its content (not overridden by
 *   a higher-priority deployment, not withheld by a rollout);
 * - `reportedSuccessfulCount`: applied devices whose `$edgeAgent` reports `lastDesiredVersion`
 *   equal to the desired `$version` and `lastDesiredStatus.code` 200;
 * - `reportedFailedCount`: applied devices reporting another code for that version (a manifest it
 *   refused, or a deployment it rolled back).
 *
 * @module
 */
import type { Decision } from "./deployment_resolution.ts";

/** What the parent knows of one device's deployment state. */
export interface DeviceStatus {
  deviceId: string;
  decision: Decision;
  /** Deployments whose content the fleet last wrote into the device's twins. */
  applied: readonly string[];
  /** `$version` of the device's `$edgeAgent` desired properties here. */
  desiredVersion: number | undefined;
  /** What its `$edgeAgent` reports: `lastDesiredVersion` and `lastDesiredStatus`. */
  reportedVersion: number | undefined;
  reportedCode: number | undefined;
  reportedDescription: string | undefined;
  /**
   * A ledge child's `deploymentHealth` (the health-gated rollback's verdict), when it reports
   * one: a deployment counts as successful only once it ran healthy, not when merely accepted.
   */
  health?: { version: number | undefined; state: string | undefined } | undefined;
}

/** How a device fares with the content it was given. */
export type Outcome = "success" | "failed" | "pending";

/** The device's outcome for the desired version it holds. */
export function outcome(status: DeviceStatus): Outcome {
  if (status.desiredVersion === undefined || status.reportedVersion !== status.desiredVersion) {
    return "pending";
  }
  if (status.reportedCode === undefined) return "pending";
  if (status.reportedCode !== 200) return "failed";
  const health = status.health;
  if (health === undefined || health.state === undefined) return "success";
  if (health.version !== status.desiredVersion) return "pending";
  if (health.state === "healthy") return "success";
  return health.state === "checking" ? "pending" : "failed";
}

/** The four system metrics. */
export type SystemMetricName =
  | "targetedCount"
  | "appliedCount"
  | "reportedSuccessfulCount"
  | "reportedFailedCount";

/** Counts and the device ids behind them. */
export interface SystemMetrics {
  results: Record<SystemMetricName, number>;
  deviceIds: Record<SystemMetricName, string[]>;
}

/** The system metrics of deployment `id` over `statuses`. */
export function systemMetrics(id: string, statuses: Iterable<DeviceStatus>): SystemMetrics {
  const deviceIds: Record<SystemMetricName, string[]> = {
    targetedCount: [],
    appliedCount: [],
    reportedSuccessfulCount: [],
    reportedFailedCount: [],
  };
  for (const status of statuses) {
    if (!status.decision.targeted.includes(id)) continue;
    deviceIds.targetedCount.push(status.deviceId);
    if (!status.applied.includes(id)) continue;
    deviceIds.appliedCount.push(status.deviceId);
    const result = outcome(status);
    if (result === "success") deviceIds.reportedSuccessfulCount.push(status.deviceId);
    if (result === "failed") deviceIds.reportedFailedCount.push(status.deviceId);
  }
  const results = Object.fromEntries(
    Object.entries(deviceIds).map(([name, ids]) => [name, ids.length]),
  ) as Record<SystemMetricName, number>;
  return { results, deviceIds };
}
