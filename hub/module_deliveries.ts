/**
 * Deliveries to MQTT sessions: one queue pump per session that subscribed to its inputs (a
 * module) or its C2D messages (a device), fed from every queue that belongs to its identity.
 */
import type { Logger } from "../core/log.ts";
import type { RouteTable } from "../routing/mod.ts";
import type { MessageStore } from "../store/mod.ts";
import type { ClientSession } from "./client_session.ts";
import { deliveryEncoder, MODULE_ENDPOINT } from "./delivery_encoder.ts";
import { type QueuePump, startQueuePump } from "./queue_pump.ts";
import type { HubIdentity } from "./security_port.ts";

/** The endpoint key of a device's C2D queue. */
export function c2dEndpoint(deviceId: string): string {
  return `/devices/${deviceId.toLowerCase()}/messages/devicebound`;
}

/** What {@linkcode ModuleDeliveries} needs from the hub. */
export interface ModuleDeliveriesOptions {
  store: MessageStore;
  logger: Logger;
  maxInflight: number;
  /** The routes in force. */
  table(): RouteTable;
  onDelivered(endpoint: string): void;
}

/** The queue pumps of the hub's MQTT sessions. */
export class ModuleDeliveries {
  readonly #o: ModuleDeliveriesOptions;
  readonly #pumps = new Map<ClientSession, QueuePump>();

  constructor(options: ModuleDeliveriesOptions) {
    this.#o = options;
  }

  /**
   * Queues whose messages belong to `identity`: a module's inputs (routed to now, or still
   * holding messages), or a device's C2D queue.
   */
  endpointsOf(identity: HubIdentity): string[] {
    const { moduleId } = identity;
    if (moduleId === undefined) return [c2dEndpoint(identity.deviceId)];
    const wanted = moduleId.toLowerCase();
    const keys = new Set<string>();
    for (const { endpoint, endpointKey } of this.#o.table().routes) {
      if (endpoint.kind === "module" && endpoint.moduleId.toLowerCase() === wanted) {
        keys.add(endpointKey);
      }
    }
    for (const queue of this.#o.store.stats()) {
      const match = MODULE_ENDPOINT.exec(queue.endpoint);
      if (match && match[1]!.toLowerCase() === wanted) keys.add(queue.endpoint);
    }
    return [...keys];
  }

  /** Delivers to `session` from its queues (again after a route change: new ones are added). */
  start(session: ClientSession): void {
    let pump = this.#pumps.get(session);
    if (!pump) {
      const { store, maxInflight, onDelivered, logger } = this.#o;
      pump = startQueuePump(session, {
        store,
        maxInflight,
        encode: deliveryEncoder(session.identity),
        onDelivered,
        onError: (error) => logger.error("cannot take from queue", { error }),
      });
      this.#pumps.set(session, pump);
    }
    for (const endpoint of this.endpointsOf(session.identity)) pump.addEndpoint(endpoint);
  }

  /** The routes changed: every session's pump takes from its queues as they are now. */
  refresh(): void {
    for (const session of this.#pumps.keys()) this.start(session);
  }

  /** `session` is gone: its unacked deliveries go back to their queues. */
  stop(session: ClientSession): void {
    this.#pumps.get(session)?.stop();
    this.#pumps.delete(session);
  }

  close(): void {
    for (const pump of this.#pumps.values()) pump.stop();
    this.#pumps.clear();
  }
}
