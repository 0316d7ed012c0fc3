/**
 * One connected client as the hub sees it: its identity, what it subscribed to, and the QoS 1
 * messages the hub sent it that it has not acknowledged yet (with the hub's own packet ids, so
 * each PUBACK settles exactly one delivery).
 */
import { identityKey } from "../iothub/mod.ts";
import type { ClientIdentity } from "./acl.ts";
import { encodePublish } from "./publish_packet.ts";

/** The socket side a session writes to (the connection's batched writer). */
export interface SessionConnection {
  write(bytes: Uint8Array): boolean;
  /** Buffers writes until `uncork` (node streams); optional. */
  cork?(): void;
  uncork?(): void;
  once(event: "drain", listener: () => void): unknown;
  readonly destroyed?: boolean;
}

/** What happens to an unacknowledged delivery. */
export interface DeliveryCallbacks {
  /** The client acknowledged it. */
  acked(): void;
  /** The connection ended before the acknowledgement. */
  lost(): void;
}

/** A connected, authenticated client. */
export interface ClientSession {
  readonly identity: ClientIdentity & { generationId?: string | undefined };
  /** Lower-cased `device` or `device/module`: the key of the identity's twin and queues. */
  readonly key: string;
  /** Topic filters the client holds (as granted). */
  readonly subscriptions: Set<string>;
  /** The last topic the ACL let it publish on (the broker checks a new topic only). */
  allowedTopic: string | undefined;
  /** Sends a QoS 0 message. Returns false when the socket buffer is full. */
  send(topic: string, payload: Uint8Array): boolean;
  /** Sends a QoS 1 message tracked until PUBACK. Returns false when the socket buffer is full. */
  sendTracked(topic: string, payload: Uint8Array, callbacks: DeliveryCallbacks): boolean;
  /** Settles a PUBACK; false when `packetId` is not one of the hub's deliveries. */
  settle(packetId: number): boolean;
  /** Deliveries awaiting PUBACK. */
  inflight(): number;
  /** Runs `fn`, sending what it writes in as few socket writes as possible. */
  corked(fn: () => void): void;
  /** Runs `listener` once the socket can take more. */
  onDrain(listener: () => void): void;
  /** Ends the session: every unacknowledged delivery is reported lost. */
  end(): void;
  readonly ended: boolean;
}

/** Creates the session of a client that just authenticated. */
export function createClientSession(
  identity: ClientIdentity & { generationId?: string | undefined },
  connection: SessionConnection,
): ClientSession {
  const pending = new Map<number, DeliveryCallbacks>();
  let nextId = 1;
  let ended = false;
  let draining = false;
  const drainListeners: (() => void)[] = [];

  function allocateId(): number {
    for (let tries = 0; tries < 65535; tries++) {
      const id = nextId;
      nextId = nextId === 65535 ? 1 : nextId + 1;
      if (!pending.has(id)) return id;
    }
    throw new RangeError("Cannot send: all 65535 packet ids are in flight");
  }

  return {
    identity,
    key: identityKey(identity),
    subscriptions: new Set(),
    allowedTopic: undefined,
    get ended() {
      return ended;
    },
    send(topic, payload) {
      if (ended) return false;
      return connection.write(encodePublish(topic, payload, { qos: 0 }));
    },
    sendTracked(topic, payload, callbacks) {
      if (ended) {
        callbacks.lost();
        return false;
      }
      const packetId = allocateId();
      pending.set(packetId, callbacks);
      return connection.write(encodePublish(topic, payload, { qos: 1, packetId }));
    },
    settle(packetId) {
      const callbacks = pending.get(packetId);
      if (!callbacks) return false;
      pending.delete(packetId);
      callbacks.acked();
      return true;
    },
    inflight: () => pending.size,
    corked(fn) {
      connection.cork?.();
      try {
        fn();
      } finally {
        connection.uncork?.();
      }
    },
    onDrain(listener) {
      drainListeners.push(listener);
      if (draining) return;
      draining = true;
      connection.once("drain", () => {
        draining = false;
        for (const run of drainListeners.splice(0)) run();
      });
    },
    end() {
      if (ended) return;
      ended = true;
      const lost = [...pending.values()];
      pending.clear();
      for (const callbacks of lost) callbacks.lost();
      for (const run of drainListeners.splice(0)) run();
    },
  };
}
