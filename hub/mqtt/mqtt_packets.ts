/**
 * The MQTT 3.1.1 packets an IoT Hub client sends, as the hub's decoder returns them, and the
 * encoders of the packets the hub sends back (PUBLISH is {@linkcode ../publish_packet.ts}).
 */

/** CONNECT: who the client says it is (the will is read only to be checked and dropped). */
export interface ConnectPacket {
  type: "connect";
  protocolLevel: number;
  clientId: string;
  username: string | undefined;
  password: Uint8Array | undefined;
  clean: boolean;
  keepaliveSeconds: number;
  willTopic: string | undefined;
}

/** PUBLISH from a client; `payload` is a view into the bytes read. */
export interface InboundPublish {
  type: "publish";
  topic: string;
  qos: 0 | 1 | 2;
  packetId: number;
  dup: boolean;
  retain: boolean;
  /**
   * A view of the bytes read: valid only while the packet is handled (the transport reads into
   * the same buffer again), unless `detached`. Copy it to keep it.
   */
  payload: Uint8Array;
  /** The payload is a view of a buffer of this packet's own: it may be kept as it is. */
  detached: boolean;
}

/**
 * A QoS 1 PUBLISH above the size limit: only its topic and packet id were read, its payload is
 * skipped. The hub refuses it (closing the connection) or, when the same message keeps coming
 * back, acknowledges and dead-letters it.
 */
export interface OversizedPublish {
  type: "oversized-publish";
  topic: string;
  packetId: number;
  /** The packet's remaining length. */
  bytes: number;
  /** Why it is refused: the limit it exceeds. */
  reason: string;
}

/** Any packet a client sends that the hub acts on. */
export type ClientPacket =
  | ConnectPacket
  | InboundPublish
  | OversizedPublish
  | { type: "puback"; packetId: number }
  | { type: "subscribe"; packetId: number; filters: { topic: string; qos: number }[] }
  | { type: "unsubscribe"; packetId: number; topics: string[] }
  | { type: "pingreq" }
  | { type: "disconnect" }
  | { type: "qos2"; packetId: number };

/** CONNACK return codes (MQTT 3.1.1 sec. 3.2.2.3). */
export const ConnackCode = {
  accepted: 0,
  badProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badCredentials: 4,
  notAuthorized: 5,
} as const;

/** CONNACK. */
export function encodeConnack(sessionPresent: boolean, code: number): Uint8Array {
  return new Uint8Array([0x20, 2, sessionPresent && code === 0 ? 1 : 0, code]);
}

/** SUBACK: one return code per filter (granted QoS, or 0x80). */
export function encodeSuback(packetId: number, codes: readonly number[]): Uint8Array {
  // A SUBSCRIBE is at most 64 KiB, so its SUBACK fits a two-byte remaining length.
  const length = 2 + codes.length;
  const header = length < 128 ? [length] : [(length & 0x7f) | 0x80, length >> 7];
  return new Uint8Array([0x90, ...header, packetId >> 8, packetId & 0xff, ...codes]);
}

/** UNSUBACK of `packetId`. */
export function encodeUnsuback(packetId: number): Uint8Array {
  return new Uint8Array([0xb0, 2, packetId >> 8, packetId & 0xff]);
}

/** PINGRESP. */
export const PINGRESP: Uint8Array = new Uint8Array([0xd0, 0]);
