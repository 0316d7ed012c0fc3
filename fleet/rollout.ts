/**
 * Staged rollouts, as pure state transitions (Greengrass's rollout and abort configs, in IoT
 * Hub's terms). A deployment with `rollout.waves` (cumulative percentages, e.g. 1, 10, 50, 100)
 * applies first to that share of the devices it targets, in a fixed pseudo-random order per
 * deployment; the next wave is released only when every device of the waves so far reports
 * success and has for `waitSeconds`. When more than `abortIfFailedPercent` of the released
 * devices report failure, the rollout aborts: the deployment then applies to no device, and the
 * released ones go back to what they ran before (the controller does that). A targeted device
 * that appears mid-rollout joins the order; the current wave's share is kept.
 *
 * @module
 */
import type { RolloutSpec, RolloutState } from "./deployment_config.ts";
import type { Outcome } from "./deployment_metrics.ts";

/** A released device's outcome, or `not-applied` when another deployment overrides it. */
export type RolloutOutcome = Outcome | "not-applied";

/** What {@linkcode advanceRollout} reads of the fleet. */
export interface RolloutInputs {
  deploymentId: string;
  spec: RolloutSpec;
  /** Devices the deployment targets now. */
  targeted: readonly string[];
  outcomeOf: (deviceId: string) => RolloutOutcome;
  /** Why a device failed (its `lastDesiredStatus.description`). */
  failureOf: (deviceId: string) => string | undefined;
  now: number;
}

function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) value = Math.imul(value ^ text.charCodeAt(i), 0x01000193);
  return value >>> 0;
}

/** The order devices are released in: fixed per deployment, spread over the fleet. */
export function rolloutOrder(deploymentId: string, devices: readonly string[]): string[] {
  return [...devices].sort((a, b) =>
    hash(`${deploymentId}/${a.toLowerCase()}`) - hash(`${deploymentId}/${b.toLowerCase()}`) ||
    (a < b ? -1 : 1)
  );
}

/** How many of `total` devices a cumulative percentage releases (at least one). */
export function waveSize(percent: number, total: number): number {
  if (total === 0) return 0;
  return Math.min(total, Math.max(1, Math.ceil((percent * total) / 100 - 1e-9)));
}

function release(state: RolloutState, inputs: RolloutInputs): RolloutState {
  const wanted = waveSize(inputs.spec.waves[state.wave]!, inputs.targeted.length);
  const released = new Set(state.released.map((id) => id.toLowerCase()));
  const targeted = new Set(inputs.targeted.map((id) => id.toLowerCase()));
  const current = state.released.filter((id) => targeted.has(id.toLowerCase())).length;
  if (current >= wanted) return state;
  const more = rolloutOrder(inputs.deploymentId, inputs.targeted)
    .filter((id) => !released.has(id.toLowerCase()))
    .slice(0, wanted - current);
  return { ...state, released: [...state.released, ...more] };
}

function abortReason(
  state: RolloutState,
  failed: string[],
  active: number,
  inputs: RolloutInputs,
): string {
  const percent = Math.round((failed.length / active) * 1000) / 10;
  const examples = failed.slice(0, 5).map((id) => `${id}: ${inputs.failureOf(id) ?? "failed"}`);
  return `wave ${state.wave + 1} (${
    inputs.spec.waves[state.wave]
  }%): ${failed.length} of ${active} ` +
    `released devices (${percent}%) failed, over the ${inputs.spec.abortIfFailedPercent}% ` +
    `threshold \u2014 ${examples.join("; ")}${failed.length > 5 ? "; \u2026" : ""}`;
}

/**
 * The next state of a rollout: started when `state` is undefined; aborted on too many failures;
 * the next wave released once the current one succeeded and waited; completed after the last.
 */
export function advanceRollout(
  state: RolloutState | undefined,
  inputs: RolloutInputs,
): RolloutState {
  if (state === undefined) {
    const started: RolloutState = {
      status: "rolling",
      wave: 0,
      waveStartedAt: inputs.now,
      waveSucceededAt: undefined,
      released: [],
    };
    return release(started, inputs);
  }
  if (state.status !== "rolling") return state;
  let next = release(state, inputs);
  const active = next.released.filter((id) => inputs.outcomeOf(id) !== "not-applied");
  const failed = active.filter((id) => inputs.outcomeOf(id) === "failed");
  if (
    failed.length > 0 && (failed.length / active.length) * 100 > inputs.spec.abortIfFailedPercent
  ) {
    const reason = abortReason(next, failed, active.length, inputs);
    return { ...next, status: "aborted", reason, returned: [...next.released] };
  }
  const succeeded = active.length > 0 && active.every((id) => inputs.outcomeOf(id) === "success");
  if (!succeeded) return { ...next, waveSucceededAt: undefined };
  next = { ...next, waveSucceededAt: next.waveSucceededAt ?? inputs.now };
  if (inputs.now - next.waveSucceededAt! < inputs.spec.waitSeconds * 1000) return next;
  if (next.wave === inputs.spec.waves.length - 1) return { ...next, status: "completed" };
  const following: RolloutState = {
    ...next,
    wave: next.wave + 1,
    waveStartedAt: inputs.now,
    waveSucceededAt: undefined,
  };
  return release(following, inputs);
}

/** Whether a deployment in `state` applies to a device: a check built once per state. */
export function rolloutReleases(state: RolloutState | undefined): (deviceId: string) => boolean {
  if (state === undefined || state.status === "completed") return () => true;
  if (state.status === "aborted") return () => false;
  const released = new Set(state.released.map((id) => id.toLowerCase()));
  return (deviceId) => released.has(deviceId.toLowerCase());
}
