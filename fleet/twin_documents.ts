/**
 * The fleet's twins as IoT Hub shows them: one JSON document per device (`devices`) and per
 * module (`devices.modules`), built from what this parent holds: the registry (leaf and child
 * edge devices), the hub's twins (which include every identity below a child that has connected
 * through it), the tags, and which sessions are up. This parent itself is not in its fleet.
 *
 * @module
 */
import type { IdentityRef, TwinProperties } from "../iothub/mod.ts";
import type { Identity } from "../security/mod.ts";
import type { JsonValue } from "./query_ast.ts";
import type { TwinDoc } from "./query_eval.ts";
import type { DeviceRecord } from "./device_records.ts";

/** The part of the hub the fleet uses (the hub's own interface satisfies it). */
export interface FleetHub {
  twinKeys(): string[];
  getTwin(target: IdentityRef): { desired: TwinProperties; reported: TwinProperties };
  patchDesired(target: IdentityRef, patch: TwinProperties): number;
  isConnected(target: IdentityRef): boolean;
  onClientChange(listener: (identity: IdentityRef, connected: boolean) => void): () => void;
  onReportedPatch(listener: (identity: IdentityRef, patch: TwinProperties) => void): () => void;
}

/** What the documents are built from. */
export interface TwinSources {
  hub: FleetHub;
  /** Registered identities (devices and modules). */
  identities: readonly Identity[];
  records: (deviceId: string) => DeviceRecord | undefined;
  ownDeviceId: string;
  /** IoT Hub's `configurations` field of a device: deployment id -> status. */
  configurations?: (deviceId: string) => Record<string, { status: string }> | undefined;
}

/** One device of the fleet. */
export interface FleetDevice {
  deviceId: string;
  doc: TwinDoc;
  edge: boolean;
}

/** Devices and modules, keyed by lower-case id (`device`, `device/module`). */
export interface FleetTwins {
  readonly devices: Map<string, FleetDevice>;
  readonly modules: Map<string, TwinDoc>;
}

function authenticationType(identity: Identity | undefined): string {
  switch (identity?.auth.type) {
    case "x509-ca":
      return "certificateAuthority";
    case "x509-thumbprint":
      return "selfSigned";
    case "none":
      return "none";
    default:
      return "sas";
  }
}

function properties(twin: { desired: TwinProperties; reported: TwinProperties }): JsonValue {
  return { desired: twin.desired, reported: twin.reported } as unknown as JsonValue;
}

function version(twin: { desired: TwinProperties; reported: TwinProperties }): number {
  return Number(twin.desired.$version ?? 0) + Number(twin.reported.$version ?? 0);
}

/** Builds the fleet's device and module twins; each map is built when first read. */
export function fleetTwins(sources: TwinSources): FleetTwins {
  const own = sources.ownDeviceId.toLowerCase();
  const registered = new Map<string, Identity>();
  for (const identity of sources.identities) {
    if (identity.moduleId !== undefined) continue;
    if (identity.kind !== "leaf-device" && identity.kind !== "child-edge-device") continue;
    registered.set(identity.deviceId.toLowerCase(), identity);
  }
  const moduleKeys: string[] = [];
  const deviceIds = new Map<string, string>();
  for (const [key, identity] of registered) deviceIds.set(key, identity.deviceId);
  const withAgent = new Set<string>();
  for (const key of sources.hub.twinKeys()) {
    const slash = key.indexOf("/");
    const device = slash < 0 ? key : key.slice(0, slash);
    if (device === own) continue;
    if (!deviceIds.has(device)) deviceIds.set(device, sources.records(device)?.deviceId ?? device);
    if (slash >= 0) {
      moduleKeys.push(key);
      if (key.slice(slash + 1) === "$edgeagent") withAgent.add(device);
    }
  }
  // A query reads one collection: the other's documents (a third of the work, or two) are not built.
  let devices: Map<string, FleetDevice> | undefined;
  let modules: Map<string, TwinDoc> | undefined;
  return {
    get devices() {
      return devices ??= deviceDocs(sources, { deviceIds, registered, withAgent });
    },
    get modules() {
      return modules ??= moduleDocs(sources.hub, deviceIds, moduleKeys);
    },
  };
}

function deviceDocs(
  sources: TwinSources,
  found: {
    deviceIds: ReadonlyMap<string, string>;
    registered: ReadonlyMap<string, Identity>;
    withAgent: ReadonlySet<string>;
  },
): Map<string, FleetDevice> {
  const devices = new Map<string, FleetDevice>();
  for (const [key, deviceId] of found.deviceIds) {
    const identity = found.registered.get(key);
    const edge = identity ? identity.kind === "child-edge-device" : found.withAgent.has(key);
    devices.set(key, { deviceId, edge, doc: deviceDoc(sources, deviceId, identity, edge) });
  }
  return devices;
}

function moduleDocs(
  hub: FleetHub,
  deviceIds: ReadonlyMap<string, string>,
  moduleKeys: readonly string[],
): Map<string, TwinDoc> {
  const modules = new Map<string, TwinDoc>();
  for (const key of moduleKeys) {
    const slash = key.indexOf("/");
    const deviceId = deviceIds.get(key.slice(0, slash))!;
    modules.set(key, moduleDoc(hub, deviceId, key.slice(slash + 1)));
  }
  return modules;
}

function deviceDoc(
  sources: TwinSources,
  deviceId: string,
  identity: Identity | undefined,
  edge: boolean,
): TwinDoc {
  const twin = sources.hub.getTwin({ deviceId });
  const record = sources.records(deviceId);
  const doc: TwinDoc = {
    deviceId,
    status: "enabled",
    connectionState: sources.hub.isConnected({ deviceId }) ? "Connected" : "Disconnected",
    authenticationType: authenticationType(identity),
    version: version(twin),
    capabilities: { iotEdge: edge },
    tags: (record?.tags ?? {}) as JsonValue,
    properties: properties(twin),
    configurations: (sources.configurations?.(deviceId) ?? {}) as JsonValue,
  };
  if (record?.enrollmentGroupId !== undefined) doc.enrollmentGroupId = record.enrollmentGroupId;
  if (identity === undefined) doc.deviceScope = "below a child edge device";
  return doc;
}

function moduleDoc(hub: FleetHub, deviceId: string, moduleKey: string): TwinDoc {
  // Twin keys are lower-case; `$edgeAgent` and `$edgeHub` have a canonical spelling.
  const moduleId = moduleKey === "$edgeagent"
    ? "$edgeAgent"
    : moduleKey === "$edgehub"
    ? "$edgeHub"
    : moduleKey;
  const twin = hub.getTwin({ deviceId, moduleId });
  return {
    deviceId,
    moduleId,
    status: "enabled",
    connectionState: hub.isConnected({ deviceId, moduleId }) ? "Connected" : "Disconnected",
    authenticationType: "sas",
    version: version(twin),
    properties: properties(twin),
  };
}
