/**
 * The AMQP 1.0 head: modules and leaf devices on the Azure IoT SDKs' Amqp and AmqpWs transports
 * connect over TLS (`hub.amqp`, 5671 as root) or over WebSocket (`/$iothub/websocket`,
 * subprotocol `AMQPWSB10`, on the HTTPS listener). rhea speaks AMQP; the head maps IoT Hub's
 * links (telemetry, module inputs, C2D, the twin and method pairs, `$cbs`) onto the hub core.
 *
 * @example
 * ```ts
 * const head = createAmqpHead({ config, port: core.heads, security, logger });
 * const listener = await startAmqpListener({ config, head, security, logger });
 * ```
 *
 * @module
 */
export { type AmqpHead, type AmqpHeadOptions, amqpLimits, createAmqpHead } from "./amqp_head.ts";
export { type AmqpListener, startAmqpListener } from "./amqp_listener.ts";
export type { AmqpCounters } from "./amqp_counters.ts";
