/**
 * The top-level fields of IoT Hub's device and module twins, as queries name them. Queries match
 * these names case-insensitively (`SELECT DeviceId` works, as on IoT Hub) and answer with the
 * canonical spelling; names below them (tags, properties) are matched exactly.
 *
 * @module
 */

/** Fields of a device twin (those ledge does not keep read as Undefined). */
export const DEVICE_TWIN_FIELDS: readonly string[] = [
  "deviceId",
  "etag",
  "deviceEtag",
  "status",
  "statusReason",
  "statusUpdateTime",
  "connectionState",
  "lastActivityTime",
  "cloudToDeviceMessageCount",
  "authenticationType",
  "x509Thumbprint",
  "modelId",
  "version",
  "tags",
  "properties",
  "capabilities",
  "configurations",
  "deviceScope",
  "parentScopes",
  // ledge: the enrollment group a device registered through (DPS's registration record).
  "enrollmentGroupId",
];

/** Fields of a module twin. */
export const MODULE_TWIN_FIELDS: readonly string[] = [
  "deviceId",
  "moduleId",
  "etag",
  "deviceEtag",
  "status",
  "statusUpdateTime",
  "connectionState",
  "lastActivityTime",
  "cloudToDeviceMessageCount",
  "authenticationType",
  "x509Thumbprint",
  "modelId",
  "version",
  "tags",
  "properties",
];

/** The two sides of `properties`. */
export const PROPERTY_SIDES: readonly string[] = ["desired", "reported"];

/** The canonical spelling of `name` among `fields` (case-insensitive), or undefined. */
export function canonicalField(fields: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return fields.find((field) => field.toLowerCase() === lower);
}
