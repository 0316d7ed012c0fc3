/**
 * Encoding an MQTT 3.1.1 PUBLISH packet the hub sends to a client (the hub writes its own
 * deliveries, with its own packet ids, so it can tie each PUBACK to a queued message). A
 * delivery's topic comes in two parts, the endpoint's (`devices/d/modules/m/inputs/in/`, encoded
 * once) and the message's property bag (ASCII once percent-encoded), and is written with the
 * payload straight into the connection's batch ({@linkcode writePublish}).
 */

import {
  type Message,
  remainingLengthSize,
  writeDeliveryBag,
  writeRemainingLength,
} from "../iothub/mod.ts";

const encoder = new TextEncoder();

/** Options of {@linkcode encodePublish}. */
export interface PublishOptions {
  qos: 0 | 1;
  /** Required for QoS 1: 1-65535. */
  packetId?: number;
  dup?: boolean;
}

/**
 * A delivery's topic tail written from its message: the property bag
 * (`deliveryBagLength(message)` bytes, `writeDeliveryBag`), without its text being built.
 */
export interface BagTail {
  message: Message;
  /** `deliveryBagLength(message)`. */
  length: number;
}

/** The part of a topic after its head: text, or a message's property bag. */
export type TopicTail = string | BagTail;

/** A PUBLISH about to be written: its topic (head bytes + tail text) and payload, measured. */
export class PublishFrame {
  /** The tail's UTF-8 bytes, when it is not ASCII (ASCII is written char by char). */
  tailBytes: Uint8Array | undefined = undefined;
  topicLength = 0;
  remaining = 0;
  /** Bytes of the whole packet. */
  size = 0;

  /**
   * Measures a PUBLISH of `head` + `tail` and `payload`.
   *
   * @throws {RangeError} when the topic is longer than 65535 bytes.
   */
  measure(head: Uint8Array | undefined, tail: TopicTail, payload: Uint8Array, qos: 0 | 1): this {
    if (typeof tail !== "string") {
      this.tailBytes = undefined;
      return this.#measured(head, tail.length, payload, qos);
    }
    let ascii = true;
    for (let i = 0; i < tail.length; i++) {
      if (tail.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    this.tailBytes = ascii ? undefined : encoder.encode(tail);
    return this.#measured(head, this.tailBytes?.length ?? tail.length, payload, qos);
  }

  #measured(head: Uint8Array | undefined, tailLength: number, payload: Uint8Array, qos: 0 | 1) {
    this.topicLength = (head?.length ?? 0) + tailLength;
    if (this.topicLength > 65535) throw new RangeError("Cannot encode PUBLISH: topic too long");
    this.remaining = 2 + this.topicLength + (qos > 0 ? 2 : 0) + payload.byteLength;
    this.size = 1 + this.remaining + remainingLengthSize(this.remaining);
    return this;
  }
}

/**
 * Writes the PUBLISH `frame` measured into `out` at `at` (`frame.size` bytes).
 * `packetId` is used for QoS 1 only.
 */
export function writePublish(
  out: Uint8Array,
  at: number,
  frame: PublishFrame,
  head: Uint8Array | undefined,
  tail: TopicTail,
  payload: Uint8Array,
  qos: 0 | 1,
  packetId: number,
  dup = false,
): void {
  // Positional parameters: an options object would be allocated per delivery.
  out[at++] = 0x30 | (dup ? 0x08 : 0) | (qos << 1);
  at = writeRemainingLength(out, at, frame.remaining);
  out[at++] = frame.topicLength >> 8;
  out[at++] = frame.topicLength & 0xff;
  if (head !== undefined) {
    out.set(head, at);
    at += head.length;
  }
  if (typeof tail !== "string") {
    at = writeDeliveryBag(tail.message, out, at);
  } else if (frame.tailBytes !== undefined) {
    out.set(frame.tailBytes, at);
    at += frame.tailBytes.length;
  } else {
    for (let i = 0; i < tail.length; i++) out[at++] = tail.charCodeAt(i);
  }
  if (qos > 0) {
    out[at++] = packetId >> 8;
    out[at++] = packetId & 0xff;
  }
  out.set(payload, at);
}

/**
 * Encodes a PUBLISH packet.
 *
 * @throws {RangeError} when a QoS 1 packet id is missing or out of range, or the topic is too long.
 */
export function encodePublish(
  topic: string,
  payload: Uint8Array,
  options: PublishOptions,
): Uint8Array {
  const packetId = options.packetId ?? 0;
  if (options.qos > 0 && (!Number.isInteger(packetId) || packetId < 1 || packetId > 65535)) {
    throw new RangeError(`Cannot encode PUBLISH: packetId ${packetId} is not 1\u201365535`);
  }
  const frame = new PublishFrame().measure(undefined, topic, payload, options.qos);
  const out = new Uint8Array(frame.size);
  writePublish(out, 0, frame, undefined, topic, payload, options.qos, packetId, options.dup);
  return out;
}
