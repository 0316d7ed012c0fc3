/**
 * The IoT Hub vocabulary, pure and shared by every head, the routes, the upstream link and the
 * fleet: who (identity references, SAS tokens, derived keys), what (the Message, its telemetry
 * codec and property bags), where (MQTT topics) and twins (merge patches and size bounds). Nothing
 * here does I/O or imports another layer but itself.
 *
 * @example
 * ```ts
 * import { identityKey, messageFromTelemetry } from "../iothub/mod.ts";
 * identityKey({ deviceId: "Edge1", moduleId: "Sensor" }); // "edge1/sensor"
 * ```
 *
 * @module
 */
export { derivedSasKey, deriveKey } from "./derived_key.ts";
export { identityKey, identityLabel, type IdentityRef, identityRef } from "./identity_ref.ts";
export {
  DEVICE_TELEMETRY_SOURCE,
  type Message,
  messageSource,
  SYSTEM_PROPERTY_NAMES,
  type SystemPropertyName,
  systemPropertyName,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
} from "./message.ts";
export {
  bagForDelivery,
  deliveryBagLength,
  messageFromTelemetry,
  type MessageSender,
  MessageTooLargeError,
  stampSender,
  SYSTEM_KEYS,
  type TelemetryOptions,
  writeDeliveryBag,
} from "./message_codec.ts";
export { TelemetryStamper } from "./telemetry_stamper.ts";
export { remainingLengthSize, writeRemainingLength } from "./mqtt_length.ts";
export { methodPayload } from "./method_payload.ts";
export { formatPropertyBag, parsePropertyBag, PropertyBagError } from "./property_bag.ts";
export {
  checkSasToken,
  createSasToken,
  encodeUriComponentStrict,
  hmacSha256Base64,
  parseSasToken,
  type SasCheck,
  type SasExpectation,
  type SasToken,
} from "./sas_token.ts";
export {
  c2dTopic,
  desiredPatchTopic,
  type InboundTopic,
  InboundTopics,
  inputTopic,
  methodRequestTopic,
  parseInboundTopic,
  topicQuery,
  twinResponseTopic,
} from "./topic_codec.ts";
export {
  checkTwinSize,
  diffProperties,
  MAX_TWIN_SIDE_BYTES,
  mergePatch,
  parseTwinPatch,
  stableJson,
  TwinPatchError,
  type TwinProperties,
} from "./twin_patch.ts";
