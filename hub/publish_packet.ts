/**
 * Encoding an MQTT 3.1.1 PUBLISH packet the hub sends to a client (the hub writes its own
 * deliveries, with its own packet ids, so it can tie each PUBACK to a queued message).
 */

const encoder = new TextEncoder();

function remainingLength(length: number): number[] {
  const bytes: number[] = [];
  do {
    let digit = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) digit |= 0x80;
    bytes.push(digit);
  } while (length > 0);
  return bytes;
}

/** Options of {@linkcode encodePublish}. */
export interface PublishOptions {
  qos: 0 | 1;
  /** Required for QoS 1: 1–65535. */
  packetId?: number;
  dup?: boolean;
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
  const topicBytes = encoder.encode(topic);
  if (topicBytes.length > 65535) throw new RangeError("Cannot encode PUBLISH: topic too long");
  const idLength = options.qos > 0 ? 2 : 0;
  if (options.qos > 0) {
    const id = options.packetId ?? 0;
    if (!Number.isInteger(id) || id < 1 || id > 65535) {
      throw new RangeError(`Cannot encode PUBLISH: packetId ${id} is not 1–65535`);
    }
  }
  const length = 2 + topicBytes.length + idLength + payload.byteLength;
  const header = remainingLength(length);
  const out = new Uint8Array(1 + header.length + length);
  out[0] = 0x30 | (options.dup ? 0x08 : 0) | (options.qos << 1);
  out.set(header, 1);
  let at = 1 + header.length;
  out[at++] = topicBytes.length >> 8;
  out[at++] = topicBytes.length & 0xff;
  out.set(topicBytes, at);
  at += topicBytes.length;
  if (options.qos > 0) {
    out[at++] = options.packetId! >> 8;
    out[at++] = options.packetId! & 0xff;
  }
  out.set(payload, at);
  return out;
}
