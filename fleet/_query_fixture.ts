/**
 * A small fleet of twins shaped like IoT Hub's (the sample twin of the query docs), for the query
 * conformance tests.
 */
import type { TwinDoc } from "./query_eval.ts";
import type { QueryRow } from "./query_run.ts";

function device(
  deviceId: string,
  fields: {
    tags?: Record<string, unknown>;
    desired?: Record<string, unknown>;
    reported?: Record<string, unknown>;
    status?: string;
    connectionState?: string;
    iotEdge?: boolean;
    lastActivityTime?: string;
  },
): TwinDoc {
  return {
    deviceId,
    etag: "AAAAAAAAAAc=",
    status: fields.status ?? "enabled",
    connectionState: fields.connectionState ?? "Disconnected",
    lastActivityTime: fields.lastActivityTime ?? "0001-01-01T00:00:00",
    authenticationType: "sas",
    version: 2,
    capabilities: { iotEdge: fields.iotEdge ?? false },
    tags: fields.tags ?? {},
    properties: {
      desired: { ...fields.desired, $version: 4 },
      reported: { ...fields.reported, $version: 7 },
    },
  } as TwinDoc;
}

/** Device twins: three in the US, one in the EU, one without a location. */
export const DEVICES: TwinDoc[] = [
  device("device1", {
    tags: { location: { region: "US", plant: "Redmond43" }, env: "prod" },
    desired: { telemetryConfig: { configId: "db00", sendFrequencyInSecs: 300 } },
    reported: {
      connectivity: "wired",
      telemetryConfig: { configId: "db00", sendFrequencyInSecs: 300, status: "Success" },
    },
    iotEdge: true,
    connectionState: "Connected",
  }),
  device("device2", {
    tags: { location: { region: "US", plant: "Redmond44" }, env: "test" },
    reported: {
      connectivity: "wifi",
      telemetryConfig: { sendFrequencyInSecs: 30, status: "Pending" },
    },
    lastActivityTime: "2021-05-07T00:50:38.0543092Z",
  }),
  device("device3", {
    tags: { location: { region: "EU", plant: "Dublin1" }, env: "prod" },
    reported: {
      connectivity: { type: "cellular" },
      telemetryConfig: { sendFrequencyInSecs: 120, status: "Success" },
    },
    iotEdge: true,
  }),
  device("device4", {
    tags: { location: { region: "US" }, group: "x" },
    reported: { telemetryConfig: { sendFrequencyInSecs: 60, status: "Error" } },
    status: "disabled",
  }),
  device("device5", { reported: { telemetryConfig: { status: "Success" } } }),
];

function moduleTwin(
  deviceId: string,
  moduleId: string,
  reported: Record<string, unknown>,
): TwinDoc {
  return {
    deviceId,
    moduleId,
    status: "enabled",
    connectionState: "Connected",
    properties: { desired: { $version: 3 }, reported: { ...reported, $version: 5 } },
  } as TwinDoc;
}

/** Module twins. */
export const MODULES: TwinDoc[] = [
  moduleTwin("device1", "$edgeAgent", {
    lastDesiredVersion: 3,
    lastDesiredStatus: { code: 200, description: "" },
  }),
  moduleTwin("device1", "scanner", { status: "idle" }),
  moduleTwin("device2", "scanner", { status: "scanning" }),
  moduleTwin("device3", "$edgeAgent", {
    lastDesiredVersion: 2,
    lastDesiredStatus: { code: 400, description: "bad manifest" },
  }),
  moduleTwin("device3", "scanner", { status: "scanning" }),
];

/** Rows keyed as the fleet keys them. */
export function rows(docs: readonly TwinDoc[]): QueryRow[] {
  return docs.map((doc) => ({
    key: doc.moduleId === undefined ? String(doc.deviceId) : `${doc.deviceId}/${doc.moduleId}`,
    doc,
  }));
}
