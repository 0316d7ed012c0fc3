/**
 * The client side of MQTT 3.1.1 as the upstream link speaks it: CONNECT, PUBLISH (QoS 0/1),
 * PUBACK, SUBSCRIBE, PINGREQ out; CONNACK, PUBLISH, PUBACK, SUBACK, PINGRESP in. Packets are
 * encoded straight into one growing buffer (a turn's packets leave in one write) and decoded
 * from the bytes as read, without an object per PUBACK.
 */

import { remainingLengthSize, writeRemainingLength } from "../iothub/mod.ts";

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A packet from the parent that breaks MQTT 3.1.1 or is not one a client takes. */
export class MqttClientProtocolError extends Error {
  override name = "MqttClientProtocolError";
}

/** What CONNECT carries. */
export interface ConnectFields {
  clientId: string;
  username?: string;
  password?: string;
  keepaliveSeconds: number;
  cleanSession: boolean;
}

/**
 * Outgoing packets, gathered until {@linkcode PacketWriter.take}. Two buffers take turns: the one
 * taken is being written while the next turn's packets go into the other.
 */
export class PacketWriter {
  #buffer = new Uint8Array(16 * 1024);
  #spare = new Uint8Array(16 * 1024);
  #length = 0;

  /** Bytes waiting. */
  get length(): number {
    return this.#length;
  }

  /** The bytes gathered; valid until the next `take`. */
  take(): Uint8Array {
    const current = this.#buffer;
    const taken = current.subarray(0, this.#length);
    this.#buffer = this.#spare;
    this.#spare = current;
    this.#length = 0;
    return taken;
  }

  #reserve(bytes: number): Uint8Array {
    const needed = this.#length + bytes;
    if (needed > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    return this.#buffer;
  }

  #header(buffer: Uint8Array, at: number, first: number, remaining: number): number {
    buffer[at] = first;
    return writeRemainingLength(buffer, at + 1, remaining);
  }

  /** A PUBLISH; `packetId` only with QoS 1. */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1, packetId: number): void {
    const idBytes = qos === 1 ? 2 : 0;
    const fixed = 2 + idBytes + payload.byteLength;
    const most = fixed + topic.length * 3;
    const buffer = this.#reserve(5 + most);
    const start = this.#length;
    // The remaining length's size is known before the topic is encoded when the shortest and the
    // longest topic encoding need the same; otherwise the topic moves once it is encoded.
    let size = remainingLengthSize(most);
    let topicAt = start + 1 + size + 2;
    const written = encoder.encodeInto(topic, buffer.subarray(topicAt)).written;
    const remaining = fixed + written;
    const actual = remainingLengthSize(remaining);
    if (actual !== size) {
      buffer.copyWithin(topicAt - (size - actual), topicAt, topicAt + written);
      size = actual;
      topicAt = start + 1 + size + 2;
    }
    this.#header(buffer, start, qos === 1 ? 0x32 : 0x30, remaining);
    buffer[topicAt - 2] = written >> 8;
    buffer[topicAt - 1] = written & 0xff;
    let at = topicAt + written;
    if (qos === 1) {
      buffer[at++] = packetId >> 8;
      buffer[at++] = packetId & 0xff;
    }
    buffer.set(payload, at);
    this.#length = at + payload.byteLength;
  }

  /** A PUBACK of an incoming QoS 1 PUBLISH. */
  puback(packetId: number): void {
    const buffer = this.#reserve(4);
    const at = this.#length;
    buffer[at] = 0x40;
    buffer[at + 1] = 2;
    buffer[at + 2] = packetId >> 8;
    buffer[at + 3] = packetId & 0xff;
    this.#length = at + 4;
  }

  /** A PINGREQ. */
  pingreq(): void {
    const buffer = this.#reserve(2);
    buffer[this.#length] = 0xc0;
    buffer[this.#length + 1] = 0;
    this.#length += 2;
  }

  /** A SUBSCRIBE of `filters`, each at QoS 1. */
  subscribe(packetId: number, filters: readonly string[]): void {
    const encoded = filters.map((filter) => encoder.encode(filter));
    const remaining = 2 + encoded.reduce((sum, bytes) => sum + 2 + bytes.length + 1, 0);
    const buffer = this.#reserve(5 + remaining);
    let at = this.#header(buffer, this.#length, 0x82, remaining);
    buffer[at++] = packetId >> 8;
    buffer[at++] = packetId & 0xff;
    for (const bytes of encoded) {
      at = putBytes(buffer, at, bytes);
      buffer[at++] = 1;
    }
    this.#length = at;
  }

  /** A CONNECT (MQTT 3.1.1). */
  connect(fields: ConnectFields): void {
    const clientId = encoder.encode(fields.clientId);
    const username = fields.username === undefined ? undefined : encoder.encode(fields.username);
    const password = fields.password === undefined ? undefined : encoder.encode(fields.password);
    const remaining = 10 + 2 + clientId.length + (username ? 2 + username.length : 0) +
      (password ? 2 + password.length : 0);
    const buffer = this.#reserve(5 + remaining);
    let at = this.#header(buffer, this.#length, 0x10, remaining);
    buffer.set([0, 4, 0x4d, 0x51, 0x54, 0x54, 4], at); // "MQTT", level 4
    at += 7;
    buffer[at++] = (username ? 0x80 : 0) | (password ? 0x40 : 0) | (fields.cleanSession ? 2 : 0);
    buffer[at++] = fields.keepaliveSeconds >> 8;
    buffer[at++] = fields.keepaliveSeconds & 0xff;
    at = putBytes(buffer, at, clientId);
    if (username) at = putBytes(buffer, at, username);
    if (password) at = putBytes(buffer, at, password);
    this.#length = at;
  }
}

function putBytes(buffer: Uint8Array, at: number, bytes: Uint8Array): number {
  buffer[at] = bytes.length >> 8;
  buffer[at + 1] = bytes.length & 0xff;
  buffer.set(bytes, at + 2);
  return at + 2 + bytes.length;
}

/** What the client does with each packet from the parent. */
export interface ParentPacketHandler {
  connack(sessionPresent: boolean, code: number): void;
  puback(packetId: number): void;
  suback(packetId: number, codes: number[]): void;
  pingresp(): void;
  /** `packetId` is 0 for QoS 0. */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1, packetId: number): void;
}

/** Largest packet taken from the parent (IoT Hub's own limit is 256 KiB plus the topic). */
const MAX_INCOMING_BYTES = 16 * 1024 * 1024;

/**
 * Frames the parent's byte stream: `push` each read; complete packets go to the handler at once,
 * a partial one is kept (copied) until the rest arrives.
 */
export class ParentPacketReader {
  #carry: Uint8Array | undefined;

  constructor(private readonly handler: ParentPacketHandler) {}

  /** Handles every complete packet of `chunk`; `chunk` may be reused after it returns. */
  push(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.#carry !== undefined) {
      const joined = new Uint8Array(this.#carry.length + chunk.length);
      joined.set(this.#carry);
      joined.set(chunk, this.#carry.length);
      bytes = joined;
      this.#carry = undefined;
    }
    let at = 0;
    const end = bytes.length;
    while (at < end) {
      const next = this.#packet(bytes, at, end);
      if (next < 0) {
        this.#carry = bytes.slice(at);
        return;
      }
      at = next;
    }
  }

  /** Handles the packet at `at`; returns where the next starts, or -1 when it is incomplete. */
  #packet(bytes: Uint8Array, at: number, end: number): number {
    let remaining = 0;
    let shift = 0;
    let pos = at + 1;
    for (;;) {
      if (pos >= end) return -1;
      const byte = bytes[pos++]!;
      remaining |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 21) throw new MqttClientProtocolError("malformed remaining length");
    }
    if (remaining > MAX_INCOMING_BYTES) {
      throw new MqttClientProtocolError(`a packet of ${remaining} bytes from the parent`);
    }
    const bodyEnd = pos + remaining;
    if (bodyEnd > end) return -1;
    this.#dispatch(bytes[at]!, bytes, pos, bodyEnd);
    return bodyEnd;
  }

  #dispatch(first: number, bytes: Uint8Array, at: number, end: number): void {
    const handler = this.handler;
    const length = end - at;
    switch (first >> 4) {
      case 4: // PUBACK
        if (length !== 2) throw new MqttClientProtocolError("PUBACK of the wrong length");
        return handler.puback((bytes[at]! << 8) | bytes[at + 1]!);
      case 3:
        return this.#publish(first, bytes, at, end);
      case 2: // CONNACK
        if (length !== 2) throw new MqttClientProtocolError("CONNACK of the wrong length");
        return handler.connack((bytes[at]! & 1) === 1, bytes[at + 1]!);
      case 9: // SUBACK
        if (length < 3) throw new MqttClientProtocolError("SUBACK without return codes");
        return handler.suback(
          (bytes[at]! << 8) | bytes[at + 1]!,
          Array.from(bytes.subarray(at + 2, end)),
        );
      case 13: // PINGRESP
        return handler.pingresp();
      case 11: // UNSUBACK: never asked for
        return;
      default:
        throw new MqttClientProtocolError(`packet type ${first >> 4} from the parent`);
    }
  }

  #publish(first: number, bytes: Uint8Array, at: number, end: number): void {
    const qos = (first >> 1) & 3;
    if (qos > 1) throw new MqttClientProtocolError(`PUBLISH at QoS ${qos} (subscribed at 1)`);
    if (end - at < 2) throw new MqttClientProtocolError("PUBLISH without a topic");
    const topicLength = (bytes[at]! << 8) | bytes[at + 1]!;
    let pos = at + 2 + topicLength;
    if (pos + (qos === 1 ? 2 : 0) > end) {
      throw new MqttClientProtocolError("PUBLISH shorter than its topic");
    }
    let topic: string;
    try {
      topic = strictUtf8.decode(bytes.subarray(at + 2, pos));
    } catch {
      throw new MqttClientProtocolError("PUBLISH topic is not UTF-8");
    }
    let packetId = 0;
    if (qos === 1) {
      packetId = (bytes[pos]! << 8) | bytes[pos + 1]!;
      pos += 2;
      if (packetId === 0) throw new MqttClientProtocolError("PUBLISH with packet id 0");
    }
    // A copy: the handler may keep the payload past this read.
    this.handler.publish(topic, bytes.slice(pos, end), qos as 0 | 1, packetId);
  }
}
