/**
 * The HTTPS device API: leaf devices on the Azure IoT SDK's Http transport send telemetry (one
 * message or a batch) and poll C2D messages with lock, complete, reject and abandon, on the hub's
 * HTTPS listener beside the methods API. Same identities, authorization and durability as the
 * other heads: a 204 means the message is durable in every queue its routes chose.
 *
 * @example
 * ```ts
 * const api = createDeviceApi({ port: core.heads, security, limiter, logger, maxMessageBytes });
 * const response = await api.app.fetch(request, { source: "10.0.0.7", peerChain: [] });
 * ```
 *
 * @module
 */
export {
  createDeviceApi,
  type DeviceApi,
  type DeviceApiOptions,
  type HttpCaller,
  type HttpDeviceCounters,
} from "./device_api.ts";
