/**
 * One connected client as the hub sees it: its identity, what it subscribed to, and the QoS 1
 * messages the hub sent it that it has not acknowledged yet (with the hub's own packet ids, so
 * each PUBACK settles exactly one delivery).
 */
import { identityKey } from "../iothub/mod.ts";
import type { ClientIdentity } from "./acl.ts";
import type { TopicTail } from "./publish_packet.ts";

/** The socket side a session writes to (the connection's batched writer). */
export interface SessionConnection {
  /**
   * Queues a PUBLISH on topic `head` + `tail` (QoS 1 with `packetId`). Returns false when the
   * socket buffer is full.
   */
  publish(
    head: Uint8Array | undefined,
    tail: TopicTail,
    payload: Uint8Array,
    qos: 0 | 1,
    packetId: number,
  ): boolean;
  /** Buffers writes until `uncork` (node streams); optional. */
  cork?(): void;
  uncork?(): void;
  once(event: "drain", listener: () => void): unknown;
  readonly destroyed?: boolean;
}

/**
 * What becomes of the deliveries a sender tracks, each told by its token (one object for all of
 * them, so a delivery costs no callbacks of its own).
 */
export interface DeliveryOwner<T> {
  /** The client acknowledged the delivery of `token`. */
  acked(token: T): void;
  /** The connection ended before the acknowledgement. */
  lost(token: T): void;
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
  /**
   * Sends a QoS 1 message on topic `head` + `tail`, tracked until PUBACK, when `owner` hears of
   * `token` again. Returns false when the socket buffer is full.
   */
  sendTracked<T>(
    head: Uint8Array,
    tail: TopicTail,
    payload: Uint8Array,
    owner: DeliveryOwner<T>,
    token: T,
  ): boolean;
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
  return new MqttClientSession(identity, connection);
}

/** A packet id slot without a delivery. */
const FREE: unique symbol = Symbol("free");
const MAX_PACKET_ID = 65535;

class MqttClientSession implements ClientSession {
  readonly key: string;
  readonly subscriptions = new Set<string>();
  allowedTopic: string | undefined = undefined;
  /**
   * Tokens of the deliveries awaiting PUBACK, at their packet id ({@linkcode FREE} where none).
   * Ids go round the slots there are, and the slots double (up to 65535 ids) only when all are
   * in flight: a delivery sets and clears an array element, where a Map allocated per entry.
   */
  readonly #slots: unknown[] = [FREE];
  /**
   * The owner of each delivery in `#slots` (so a token need not say which queue it is from:
   * a pump passes a number, not an object made per delivery).
   */
  readonly #owners: (DeliveryOwner<unknown> | undefined)[] = [undefined];
  #inflight = 0;
  #nextId = 1;
  #ended = false;
  #draining = false;
  readonly #drainListeners: (() => void)[] = [];

  constructor(
    readonly identity: ClientIdentity & { generationId?: string | undefined },
    private readonly connection: SessionConnection,
  ) {
    this.key = identityKey(identity);
  }

  get ended(): boolean {
    return this.#ended;
  }

  send(topic: string, payload: Uint8Array): boolean {
    if (this.#ended) return false;
    return this.connection.publish(undefined, topic, payload, 0, 0);
  }

  sendTracked<T>(
    head: Uint8Array,
    tail: TopicTail,
    payload: Uint8Array,
    owner: DeliveryOwner<T>,
    token: T,
  ): boolean {
    if (this.#ended) {
      owner.lost(token);
      return false;
    }
    const packetId = this.#allocateId();
    this.#slots[packetId] = token;
    this.#owners[packetId] = owner as DeliveryOwner<unknown>;
    this.#inflight++;
    return this.connection.publish(head, tail, payload, 1, packetId);
  }

  settle(packetId: number): boolean {
    if (!(packetId >= 1 && packetId < this.#slots.length)) return false;
    const token = this.#slots[packetId];
    if (token === FREE) return false;
    const owner = this.#owners[packetId]!;
    this.#slots[packetId] = FREE;
    this.#owners[packetId] = undefined;
    this.#inflight--;
    owner.acked(token);
    return true;
  }

  inflight(): number {
    return this.#inflight;
  }

  corked(fn: () => void): void {
    this.connection.cork?.();
    try {
      fn();
    } finally {
      this.connection.uncork?.();
    }
  }

  onDrain(listener: () => void): void {
    this.#drainListeners.push(listener);
    if (this.#draining) return;
    this.#draining = true;
    this.connection.once("drain", () => {
      this.#draining = false;
      for (const run of this.#drainListeners.splice(0)) run();
    });
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    // Oldest first: from the next id round the slots (ids are handed out in that order).
    const slots = this.#slots;
    const owners = this.#owners;
    const lost: [DeliveryOwner<unknown>, unknown][] = [];
    for (let i = 0; i < slots.length - 1; i++) {
      const id = 1 + (this.#nextId - 1 + i) % (slots.length - 1);
      if (slots[id] !== FREE) lost.push([owners[id]!, slots[id]]);
      slots[id] = FREE;
      owners[id] = undefined;
    }
    this.#inflight = 0;
    for (const [owner, token] of lost) owner.lost(token);
    for (const run of this.#drainListeners.splice(0)) run();
  }

  #allocateId(): number {
    const slots = this.#slots;
    if (this.#inflight === slots.length - 1) {
      if (slots.length === MAX_PACKET_ID + 1) {
        throw new RangeError("Cannot send: all 65535 packet ids are in flight");
      }
      const size = Math.min(MAX_PACKET_ID + 1, Math.max(16, slots.length * 2));
      while (slots.length < size) {
        slots.push(FREE);
        this.#owners.push(undefined);
      }
    }
    // A free slot exists: the loop ends.
    for (;;) {
      const id = this.#nextId;
      this.#nextId = id + 1 === slots.length ? 1 : id + 1;
      if (slots[id] === FREE) return id;
    }
  }
}
