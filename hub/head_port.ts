/**
 * What a protocol head other than MQTT (AMQP, AMQP over WebSocket, the HTTPS device API) needs
 * from the hub core, with no MQTT topic or packet in it: ingest a message (resolves once durable
 * in every queue its routes chose), open a session for an authenticated identity (presence,
 * twins, desired-property pushes, direct methods, deliveries of module inputs and C2D).
 *
 * This is the consumer side of the protocol-neutral seam (see /work/coord/notes/amqp.md); the
 * core implements it in {@linkcode ./head_sessions.ts}.
 */
import type { Message, TwinProperties } from "../iothub/mod.ts";
import type { QueuedMessage } from "../store/mod.ts";
import type { HubIdentity } from "./security_port.ts";

/** A direct method call for a connected client. */
export interface MethodCall {
  methodName: string;
  payload: unknown;
  /** The request id the reply must carry. */
  rid: string;
}

/** How a delivery ends; the first call wins, later ones do nothing. */
export interface DeliverySettle {
  /** The client took it (complete): removed from the queue. */
  ack(): void;
  /** The client gave it back (abandon, or the link ended): it is delivered again. */
  release(): void;
  /** The client refused it (reject): removed without redelivery (IoT Hub's dead-letter). */
  reject(): void;
}

/** Where a session's deliveries go. */
export interface DeliverySink {
  /** How many more deliveries the head can take now (AMQP: link credit). */
  room(): number;
  /** Sends one queued message; the head calls exactly one of `settle`'s methods later. */
  deliver(queued: QueuedMessage, settle: DeliverySettle): void;
}

/** Running deliveries into one sink. */
export interface Deliveries {
  /** The sink has room again (AMQP: credit arrived). */
  wake(): void;
  /** Stops delivering; every unsettled delivery is released. */
  stop(): void;
  /** Deliveries sent and not settled yet. */
  inflight(): number;
}

/** The connection a session lives on, as the core sees it. */
export interface HeadConnection {
  /** "amqp", "amqpws", "https": for logs and stats. */
  readonly protocol: string;
  /** Remote address. */
  readonly source: string;
  /** The core ends the session (taken over by a new one, identity removed, hub stopping). */
  close(reason: string): void;
}

/** One authenticated identity on one connection. */
export interface HeadSession {
  readonly identity: HubIdentity;
  /** Lower-cased `device` or `device/module`. */
  readonly key: string;
  /** Routes the message into durable queues; resolves once it is durable in all of them. */
  ingest(message: Message): Promise<void>;
  /** The twin as GET returns it (with `$version`s). */
  twin(): { desired: TwinProperties; reported: TwinProperties };
  /**
   * Applies a reported patch; resolves with the new version once it is durable. Rejects with a
   * {@linkcode TwinPatchError} for a bad patch.
   */
  patchReported(patch: TwinProperties): Promise<number>;
  /** Desired-property patches from now on (the patch includes `$version`). */
  onDesired(listener: (patch: TwinProperties, version: number) => void): () => void;
  /** Direct method calls from now on; the session counts as connected for methods meanwhile. */
  onMethodCall(listener: (call: MethodCall) => void): () => void;
  /** A reply to a call; false when `rid` is not a call pending for this identity. */
  settleMethod(rid: string, result: { status: number; payload: unknown }): boolean;
  /** Starts delivering the identity's module inputs (a module) or C2D messages (a device). */
  deliver(sink: DeliverySink): Deliveries;
  /** Ends the session (the connection or the last link of the identity closed). */
  end(): void;
  readonly ended: boolean;
}

/** The core as a head uses it. */
export interface HeadPort {
  /** Opens a session; an older one of the same identity from any head is closed. */
  openSession(identity: HubIdentity, connection: HeadConnection): HeadSession;
  /** Ingest without a session (the HTTPS device API authenticates each request). */
  ingest(identity: HubIdentity, message: Message): Promise<void>;
  /**
   * Takes the next message due to `identity` (its C2D queue, or a module's inputs) without a
   * session, for a poll (the HTTPS device API); the caller settles it. Undefined when none waits.
   */
  takeOne(identity: HubIdentity): { queued: QueuedMessage; settle: DeliverySettle } | undefined;
}
