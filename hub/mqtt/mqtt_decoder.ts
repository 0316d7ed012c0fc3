/**
 * The hub's MQTT 3.1.1 decoder: bytes in, client packets out, strictly. The first packet that
 * breaks the protocol (too large, malformed, a type a client never sends, packet id 0, no topics,
 * a topic that is not UTF-8 - {@linkcode checkPacketBody}) stops decoding with the reason, and
 * the connection is closed; nothing after it is decoded. A packet too large is refused at its
 * header, before its body is buffered, except a QoS 1 PUBLISH: its topic and packet id are read
 * and handed on (`oversized-publish`) so the hub may acknowledge it, and the rest is skipped as
 * it arrives. PUBLISH is the fast path: one view of the bytes, no copy.
 */
import { checkPacketBody } from "./packet_rules.ts";
import type { ClientPacket, ConnectPacket, InboundPublish } from "./mqtt_packets.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A packet that breaks the protocol; the connection must close. */
export class MqttProtocolError extends Error {
  override name = "MqttProtocolError";
}

function u16(bytes: Uint8Array, at: number): number {
  return bytes[at]! << 8 | bytes[at + 1]!;
}

/** Reads a length-prefixed string at `at`; throws when it runs past `end` or is not UTF-8. */
function readString(bytes: Uint8Array, at: number, end: number, what: string): [string, number] {
  const raw = readBytes(bytes, at, end, what);
  try {
    return [UTF8.decode(raw), at + 2 + raw.length];
  } catch {
    throw new MqttProtocolError(`${what} is not well-formed UTF-8 (sec. 1.5.3)`);
  }
}

function readBytes(bytes: Uint8Array, at: number, end: number, what: string): Uint8Array {
  if (at + 2 > end) throw new MqttProtocolError(`CONNECT ends before its ${what}`);
  const length = u16(bytes, at);
  if (at + 2 + length > end) throw new MqttProtocolError(`CONNECT ${what} runs past the end`);
  return bytes.subarray(at + 2, at + 2 + length);
}

/** Decodes a CONNECT body (`bytes[at, end)`). */
export function decodeConnect(bytes: Uint8Array, at: number, end: number): ConnectPacket {
  let protocol: string;
  [protocol, at] = readString(bytes, at, end, "protocol name");
  if (at + 4 > end) throw new MqttProtocolError("CONNECT ends before its flags");
  const protocolLevel = bytes[at]!;
  const flags = bytes[at + 1]!;
  const keepaliveSeconds = u16(bytes, at + 2);
  at += 4;
  if (protocol !== "MQTT" && protocol !== "MQIsdp") {
    throw new MqttProtocolError(`CONNECT protocol name "${protocol}" is not MQTT (sec. 3.1.2.1)`);
  }
  if (flags & 0x01) throw new MqttProtocolError("CONNECT reserved flag is set (sec. 3.1.2.3)");
  const willFlag = (flags & 0x04) !== 0;
  if (!willFlag && (flags & 0x38) !== 0) {
    throw new MqttProtocolError("CONNECT will QoS/retain set without a will (sec. 3.1.2.6)");
  }
  if ((flags & 0x18) === 0x18) throw new MqttProtocolError("CONNECT will QoS 3 (sec. 3.1.2.6)");
  if ((flags & 0xc0) === 0x40) {
    throw new MqttProtocolError("CONNECT password without a username (sec. 3.1.2.9)");
  }
  let clientId: string;
  [clientId, at] = readString(bytes, at, end, "client id");
  let willTopic: string | undefined;
  if (willFlag) {
    [willTopic, at] = readString(bytes, at, end, "will topic");
    at += 2 + readBytes(bytes, at, end, "will message").length;
  }
  let username: string | undefined;
  if (flags & 0x80) [username, at] = readString(bytes, at, end, "username");
  let password: Uint8Array | undefined;
  if (flags & 0x40) {
    password = readBytes(bytes, at, end, "password");
    at += 2 + password.length;
  }
  if (at !== end) throw new MqttProtocolError("CONNECT has bytes after its payload");
  return {
    type: "connect",
    protocolLevel,
    clientId,
    username,
    password,
    clean: (flags & 0x02) !== 0,
    keepaliveSeconds,
    willTopic,
  };
}

function decodeTopics(bytes: Uint8Array, at: number, end: number, withQos: boolean) {
  const topics: { topic: string; qos: number }[] = [];
  while (at < end) {
    const length = u16(bytes, at);
    const topic = UTF8.decode(bytes.subarray(at + 2, at + 2 + length));
    at += 2 + length;
    topics.push({ topic, qos: withQos ? bytes[at++]! : 0 });
  }
  return topics;
}

/**
 * The topic of the last PUBLISH a connection sent, decoded and checked: a client publishes on
 * the same topic again and again, and comparing its bytes costs less than decoding them.
 */
class TopicCache {
  bytes: Uint8Array | undefined;
  text = "";

  /** The topic at `bytes[at, end)`, decoded and checked, or as last time when the bytes match. */
  read(bytes: Uint8Array, at: number, end: number): string {
    const last = this.bytes;
    if (last !== undefined && last.length === end - at) {
      let i = 0;
      while (i < last.length && last[i] === bytes[at + i]) i++;
      if (i === last.length) return this.text;
    }
    let topic: string;
    try {
      topic = UTF8.decode(bytes.subarray(at, end));
    } catch {
      throw new MqttProtocolError("PUBLISH topic is not well-formed UTF-8 (sec. 1.5.3)");
    }
    if (topic.includes("\u0000") || topic.includes("+") || topic.includes("#")) {
      throw new MqttProtocolError(
        "PUBLISH topic contains U+0000 or a wildcard (sec. 1.5.3, sec. 3.3.2.1)",
      );
    }
    this.bytes = bytes.slice(at, end);
    this.text = topic;
    return topic;
  }
}

/**
 * The fast path: a PUBLISH decoded and checked in one pass (topic decoded once per new topic,
 * payload a view).
 *
 * @throws {MqttProtocolError} as {@linkcode checkPacketBody} would.
 */
function decodePublish(
  flags: number,
  bytes: Uint8Array,
  at: number,
  end: number,
  topics: TopicCache,
  detached: boolean,
): InboundPublish {
  const qos = (flags >> 1) & 3;
  if (qos === 3) throw new MqttProtocolError("PUBLISH with QoS 3 (sec. 3.3.1.2)");
  if (at + 2 > end) {
    throw new MqttProtocolError("PUBLISH string length runs past the end of the packet");
  }
  const topicLength = u16(bytes, at);
  let next = at + 2 + topicLength;
  if (next + (qos > 0 ? 2 : 0) > end) {
    throw new MqttProtocolError("PUBLISH topic runs past the end of the packet");
  }
  if (topicLength === 0) throw new MqttProtocolError("PUBLISH empty topic (sec. 4.7.3)");
  const topic = topics.read(bytes, at + 2, next);
  let packetId = 0;
  if (qos > 0) {
    packetId = u16(bytes, next);
    if (packetId === 0) throw new MqttProtocolError("PUBLISH with packet id 0 (sec. 2.3.1)");
    next += 2;
  }
  return {
    type: "publish",
    topic,
    qos: qos as 0 | 1 | 2,
    packetId,
    dup: (flags & 0x08) !== 0,
    retain: (flags & 0x01) !== 0,
    payload: bytes.subarray(next, end),
    detached,
  };
}

/** Decodes one whole packet: `first` is its first byte, its body is `bytes[at, end)`. */
function decodePacket(first: number, bytes: Uint8Array, at: number, end: number): ClientPacket {
  const type = first >> 4;
  const length = end - at;
  switch (type) {
    case 1:
      return decodeConnect(bytes, at, end);
    case 4:
      if (length !== 2) throw new MqttProtocolError("PUBACK length is not 2");
      return { type: "puback", packetId: u16(bytes, at) };
    case 5:
    case 6:
    case 7:
      return { type: "qos2", packetId: length >= 2 ? u16(bytes, at) : 0 };
    case 8:
      return {
        type: "subscribe",
        packetId: u16(bytes, at),
        filters: decodeTopics(bytes, at + 2, end, true),
      };
    case 10:
      return {
        type: "unsubscribe",
        packetId: u16(bytes, at),
        topics: decodeTopics(bytes, at + 2, end, false).map((entry) => entry.topic),
      };
    case 12:
      return { type: "pingreq" };
    case 14:
      return { type: "disconnect" };
    default:
      throw new MqttProtocolError(`packet type ${type} is not one a client sends`);
  }
}

/** Why a fixed header's type and flags are refused, or undefined. */
function headerViolation(first: number, length: number): string | undefined {
  const type = first >> 4;
  const flags = first & 0x0f;
  if (type === 3) return undefined;
  if (type === 0 || type === 2 || type === 9 || type === 11 || type === 13 || type === 15) {
    return `packet type ${type} is not one a client sends`;
  }
  const wanted = type === 6 || type === 8 || type === 10 ? 2 : 0;
  if (flags !== wanted) {
    return `reserved flags of packet type ${type} are not ${wanted} (sec. 2.2.2)`;
  }
  if ((type === 12 || type === 14) && length !== 0) return `packet type ${type} has a body`;
  if ((type === 8 || type === 10) && length > 64 * 1024) {
    return `packet type ${type} of ${length} bytes exceeds 65536`;
  }
  return undefined;
}

/**
 * Decodes one connection's bytes. The chunks pushed are borrowed (a transport may read into the
 * same buffer again): what must outlive a push, the start of a packet cut by a read, is copied,
 * into a buffer of the packet's own size once its length is known.
 */
export class MqttDecoder {
  /** Bytes of a packet not complete yet (a copy). */
  #held: Uint8Array | undefined;
  #heldBytes = 0;
  /** Bytes `#held` must reach to be decoded (0: the header is not complete, length unknown). */
  #need = 0;
  /** Bytes of an oversized PUBLISH still to discard. */
  #skip = 0;
  readonly #topics = new TopicCache();
  readonly #lastHeader: Header = { headerBytes: 0, total: 0 };

  constructor(readonly maxPacketBytes: number) {}

  /**
   * Decodes what `chunk` completes, calling `onPacket` for each packet in order. `chunk` is only
   * read during the call; a PUBLISH payload is a view of it unless `detached`.
   *
   * @throws {MqttProtocolError} at the first packet that breaks the protocol.
   */
  push(chunk: Uint8Array, onPacket: (packet: ClientPacket) => void): void {
    if (this.#skip > 0) {
      const skipped = Math.min(this.#skip, chunk.length);
      this.#skip -= skipped;
      if (skipped === chunk.length) return;
      chunk = chunk.subarray(skipped);
    }
    const held = this.#held;
    if (held === undefined) return this.#decode(chunk, false, onPacket);
    this.#held = undefined;
    if (this.#need === 0) {
      // A few bytes of a header: join them with the chunk (a fresh buffer, views may stay).
      const joined = new Uint8Array(this.#heldBytes + chunk.length);
      joined.set(held.subarray(0, this.#heldBytes));
      joined.set(chunk, this.#heldBytes);
      return this.#decode(joined, false, onPacket);
    }
    const taken = Math.min(this.#need - this.#heldBytes, chunk.length);
    held.set(chunk.subarray(0, taken), this.#heldBytes);
    this.#heldBytes += taken;
    if (this.#heldBytes < this.#need) {
      this.#held = held;
      return;
    }
    // The packet (or an oversized one's prefix) is whole, in a buffer of its own.
    this.#decode(held, true, onPacket);
    if (taken < chunk.length) this.push(chunk.subarray(taken), onPacket);
  }

  /** Decodes the packets of `chunk`, holding a copy of an incomplete last one. */
  #decode(chunk: Uint8Array, detached: boolean, onPacket: (packet: ClientPacket) => void): void {
    let at = 0;
    while (at < chunk.length) {
      const header = this.#header(chunk, at);
      if (header?.oversized) {
        const prefix = oversizedPrefix(chunk, at, header);
        if (prefix.end > chunk.length) return this.#hold(chunk, at, prefix.known ? prefix.end : 0);
        onPacket(decodeOversized(chunk, at, prefix.end, header, this.#topics));
        this.#skip = Math.max(0, at + header.total - chunk.length);
        at = Math.min(at + header.total, chunk.length);
        continue;
      }
      if (header === undefined || at + header.total > chunk.length) {
        return this.#hold(chunk, at, header === undefined ? 0 : at + header.total);
      }
      const first = chunk[at]!;
      const bodyStart = at + header.headerBytes;
      const end = at + header.total;
      if (first >> 4 === 3) {
        onPacket(decodePublish(first & 0x0f, chunk, bodyStart, end, this.#topics, detached));
      } else {
        const violation = checkPacketBody(first >> 4, chunk, bodyStart, end);
        if (violation) throw new MqttProtocolError(violation);
        onPacket(decodePacket(first, chunk, bodyStart, end));
      }
      at = end;
    }
  }

  /** Copies `chunk[at...]`, the start of a packet, into a buffer of `end - at` bytes (0: unknown). */
  #hold(chunk: Uint8Array, at: number, end: number): void {
    const rest = chunk.length - at;
    const held = new Uint8Array(end === 0 ? rest : end - at);
    held.set(chunk.subarray(at));
    this.#held = held;
    this.#heldBytes = rest;
    this.#need = end === 0 ? 0 : end - at;
  }

  /**
   * The packet's header size and total size, undefined when the header is incomplete. The answer
   * is one object the decoder reuses (a packet read is one less allocation), valid until the next.
   */
  #header(bytes: Uint8Array, at: number): Header | undefined {
    let length = 0;
    let multiplier = 1;
    for (let i = 1; i <= 4; i++) {
      if (at + i >= bytes.length) return undefined;
      const byte = bytes[at + i]!;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if (byte & 0x80) continue;
      const violation = headerViolation(bytes[at]!, length);
      if (violation) throw new MqttProtocolError(violation);
      if (length <= this.maxPacketBytes) {
        const header = this.#lastHeader;
        header.headerBytes = 1 + i;
        header.total = 1 + i + length;
        return header;
      }
      const header = { headerBytes: 1 + i, total: 1 + i + length };
      const reason = `packet of ${length} bytes exceeds the limit of ${this.maxPacketBytes}`;
      // A QoS 1 PUBLISH is judged by the hub, which may acknowledge it; anything else closes.
      if (bytes[at]! >> 4 !== 3 || ((bytes[at]! >> 1) & 3) !== 1) {
        throw new MqttProtocolError(reason);
      }
      return { ...header, oversized: reason };
    }
    throw new MqttProtocolError("malformed remaining length");
  }
}

interface Header {
  headerBytes: number;
  total: number;
  /** Set (to the reason) on a QoS 1 PUBLISH above the limit. */
  oversized?: string;
}

/**
 * Where the topic and packet id of an oversized PUBLISH at `at` end; `known` false while its
 * topic length has not arrived yet.
 */
function oversizedPrefix(
  bytes: Uint8Array,
  at: number,
  header: Header,
): { end: number; known: boolean } {
  const topicAt = at + header.headerBytes;
  if (topicAt + 2 > bytes.length) return { end: topicAt + 2, known: false };
  return { end: topicAt + 2 + u16(bytes, topicAt) + 2, known: true };
}

function decodeOversized(
  bytes: Uint8Array,
  at: number,
  prefixEnd: number,
  header: Header,
  topics: TopicCache,
): ClientPacket {
  const publish = decodePublish(
    bytes[at]! & 0x0f,
    bytes,
    at + header.headerBytes,
    prefixEnd,
    topics,
    false,
  );
  return {
    type: "oversized-publish",
    topic: publish.topic,
    packetId: publish.packetId,
    bytes: header.total - header.headerBytes,
    reason: header.oversized!,
  };
}
