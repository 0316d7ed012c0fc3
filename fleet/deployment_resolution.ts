/**
 * Which deployments a device gets, by IoT Hub's rules: of the base deployments that target it,
 * the highest priority applies (on equal priority, the one created last); layered deployments
 * that target it apply on top in priority order (on equal priority, the later-created one last,
 * so it wins a path both set). A layered deployment without a base makes no valid
 * configuration and is not applied. A deployment in a staged rollout applies only to the devices
 * its waves have released; an aborted one applies to none. Pure: no I/O.
 *
 * @module
 */
import type { StoredDeployment } from "./deployment_config.ts";
import { mergeLayers, type ModulesContent } from "./deployment_content.ts";
import type { QueryExpr } from "./query_ast.ts";
import { holds, type TwinDoc } from "./query_eval.ts";

/** A deployment with its target condition parsed (`all` for `*`). */
export interface ActiveDeployment {
  record: StoredDeployment;
  condition: QueryExpr | "all";
}

/** A device as resolution sees it. */
export interface DeviceView {
  deviceId: string;
  /** Its twin document (tags, properties, capabilities ...). */
  doc: TwinDoc;
  /** Deployments its enrollment group assigns it explicitly. */
  assigned: readonly string[];
}

/** What applies to one device, and why. */
export interface Decision {
  /** Deployments whose target condition (or enrollment) selects the device. */
  targeted: string[];
  /** The base deployment that applies. */
  base: string | undefined;
  /** Bases of the same priority as `base` that lost to it because it was created later. */
  tiedWith: string[];
  /** Targeted bases that do not apply (lower priority, or lost a tie). */
  overridden: string[];
  /** Layered deployments applied, in the order they apply. */
  layers: string[];
  /** Targeted deployments held back: a rollout has not released the device, or was aborted. */
  withheld: string[];
  /** Targeted layers not applied because no base applies. */
  layersWithoutBase: string[];
}

/** Whether a deployment's rollout lets it apply to `deviceId` now. */
export type ReleaseCheck = (deployment: StoredDeployment, deviceId: string) => boolean;

/** Whether `deployment` targets `device` (an edge device only). */
export function targets(deployment: ActiveDeployment, device: DeviceView): boolean {
  if (device.assigned.includes(deployment.record.id)) return true;
  const capabilities = device.doc.capabilities as { iotEdge?: unknown } | undefined;
  if (capabilities?.iotEdge !== true) return false;
  return deployment.condition === "all" || holds(deployment.condition, device.doc);
}

/** Later-created first among equals: by creation time, then creation order. */
function newer(a: StoredDeployment, b: StoredDeployment): number {
  const time = Date.parse(b.createdTimeUtc) - Date.parse(a.createdTimeUtc);
  return time !== 0 ? time : b.sequence - a.sequence;
}

/** Decides what applies to `device` among `deployments`. */
export function decide(
  device: DeviceView,
  deployments: readonly ActiveDeployment[],
  released: ReleaseCheck,
): Decision {
  const decision: Decision = {
    targeted: [],
    base: undefined,
    tiedWith: [],
    overridden: [],
    layers: [],
    withheld: [],
    layersWithoutBase: [],
  };
  const bases: StoredDeployment[] = [];
  const layers: StoredDeployment[] = [];
  for (const deployment of deployments) {
    if (!targets(deployment, device)) continue;
    const record = deployment.record;
    decision.targeted.push(record.id);
    if (!released(record, device.deviceId)) decision.withheld.push(record.id);
    else (record.layered ? layers : bases).push(record);
  }
  bases.sort((a, b) => b.priority - a.priority || newer(a, b));
  const winner = bases[0];
  if (winner === undefined) {
    decision.layersWithoutBase = layers.map((layer) => layer.id);
    return decision;
  }
  decision.base = winner.id;
  decision.overridden = bases.slice(1).map((base) => base.id);
  decision.tiedWith = bases.slice(1).filter((base) => base.priority === winner.priority)
    .map((base) => base.id);
  layers.sort((a, b) => a.priority - b.priority || -newer(a, b));
  decision.layers = layers.map((layer) => layer.id);
  return decision;
}

/** The content `decision` gives the device, or undefined when no base applies. */
export function contentOf(
  decision: Decision,
  byId: ReadonlyMap<string, StoredDeployment>,
): ModulesContent | undefined {
  if (decision.base === undefined) return undefined;
  const base = byId.get(decision.base)!.content.modulesContent as ModulesContent;
  const layers = decision.layers.map((id) =>
    byId.get(id)!.content.modulesContent as ModulesContent
  );
  return mergeLayers(base, layers);
}
