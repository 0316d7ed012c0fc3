/**
 * The upstream connector: this ledge as a device of its parent - another ledge (nested edge) or,
 * since it speaks the IoT Hub device protocol, Azure IoT Hub itself.
 *
 * - **Link.** MQTT 3.1.1 over TLS (`mqtts`, port 8883) or over WebSocket
 *   (`wss://host:port/$iothub/websocket`), verifying the parent's certificate against
 *   `upstream.ca_file` (the system roots when empty). clientId and username are the Azure IoT
 *   SDK's: `device[/module]` and `{parent}/{clientId}/?api-version=2021-04-12&DeviceClientType=...`.
 *   This device authenticates with a SAS token (`sr = {parent}/devices/{id}`, signed with
 *   `upstream.shared_access_key`, renewed by reconnecting at 3/4 of
 *   `upstream.token_lifetime_seconds`) or a client certificate (`upstream.cert_file`/`key_file`).
 * - **One identity per connection.** A message goes up as the identity that sent it into this hub,
 *   so the parent stamps the same `connectionDeviceId`/`connectionModuleId`: this device's own
 *   connection is always open; a module's (`device/module`) or a lower device's opens when needed
 *   and closes after `upstream.idle_timeout_seconds` unused (modules held with
 *   {@linkcode Upstream.hold} stay open: `$edgeAgent`, `$edgeHub` by default).
 * - **Keys of the identities below this device** are derived from its own key, so the parent can
 *   check them knowing only that key: module `m` -> `HMAC-SHA256(deviceKey, "m")`; a device `d`
 *   below (leaf or child edge) -> `HMAC-SHA256(deviceKey, "devices/d")`, and its modules from that
 *   key in turn (base64 keys, HMAC over the UTF-8 name; see iothub/derived_key.ts). A parent ledge
 *   verifies a child's module by deriving the same key from the child's registered key
 *   (security/derived_identities.ts; `ledge identity add-device <child> --edge` registers it).
 * - **Wiring.** upstream/upstream_link.ts turns what comes down into deployments, twins, method
 *   calls and C2D here, sends reported properties up, and holds the connection of every client
 *   connected to this hub.
 * - **Reconnects** wait a capped exponential back-off with jitter (1 s doubling to
 *   `upstream.reconnect_max_seconds`; at least half of it always waited, so no busy loop). Each
 *   distinct failure is logged once (refused credentials and untrusted certificates as errors);
 *   the state shows in {@linkcode Upstream.state}, `GET /v1/upstream` and the metrics.
 * - **Forwarding** drains the `$upstream` queue in priority order with up to
 *   `upstream.max_inflight` messages awaiting PUBACK, acks each in the store only after the
 *   parent's PUBACK and releases the rest when a link drops: at least once, never lost. Expired
 *   messages are dropped and counted. A message the parent can never take (larger than
 *   `upstream.max_message_bytes`, or one the parent keeps dropping the link on) goes to the
 *   `$deadletter/$upstream` queue and is counted, never retried forever.
 * - **Down from the parent**: desired patches, direct methods (answered), C2D messages (PUBACK only
 *   after the handler stored them) and, on each connect of a held identity, the full twin - all
 *   handed to {@linkcode UpstreamHandlers}. Reported properties go up batched and retried.
 *
 * @example
 * ```ts
 * const component = createUpstreamComponent(context, { store: () => hubComponent.store });
 * await component.start(signal); // after the hub
 * component.upstream.setHandlers({
 *   onDesired: (identity, patch) => console.log(identity, patch),
 *   onMethod: async (identity, request) => ({ status: 200, payload: { ok: true } }),
 * });
 * await component.upstream.patchReported({ deviceId: "child", moduleId: "$edgeAgent" }, { ok: 1 });
 * ```
 *
 * @module
 */
export {
  checkUpstreamConfig,
  createUpstreamComponent,
  type Upstream,
  UPSTREAM_DEAD_LETTER_ENDPOINT,
  UPSTREAM_ENDPOINT,
  type UpstreamComponent,
  type UpstreamComponentOptions,
  upstreamMetricFamilies,
  type UpstreamState,
} from "./upstream_component.ts";
export type {
  UpstreamC2DMessage,
  UpstreamHandlers,
  UpstreamMethodRequest,
  UpstreamMethodResult,
} from "./downstream.ts";
export type { ConnectionState } from "./upstream_connection.ts";
export type { ForwarderStats } from "./forwarder.ts";
export { type TwinDocument, TwinRequestError } from "./twin_requests.ts";
export type { TwinPatch } from "./reported_patch.ts";
export type { UpstreamApi } from "./upstream_component.ts";
export { createUpstreamLink } from "./upstream_link.ts";
export { enrollmentDeviceKey, withEnrollmentKey } from "./enrollment_key.ts";
