/**
 * An incremental scanner of the MQTT packets a client sends, fed with the bytes as they arrive.
 * It reads each packet's fixed header and, for PUBLISH, SUBSCRIBE and UNSUBSCRIBE, the part of
 * the body that carries the packet id and topics (a PUBLISH payload is skipped unread), and
 * reports the first packet that breaks MQTT 3.1.1 in a way that must close the connection: too
 * large, a malformed length, a type a client never sends, a packet id 0 (§2.3.1), a SUBSCRIBE
 * or UNSUBSCRIBE without topics (§3.8.3, §3.10.3), a topic that is empty or not well-formed
 * UTF-8 (§1.5.3, §4.7.3), reserved flag bits set (§2.2.2), wildcards in a PUBLISH topic
 * (§3.3.2.1). So a connection can be closed before a huge packet is buffered or a bad one is
 * handled.
 */
import { checkPacketBody } from "./packet_rules.ts";

/** What the scanner found wrong, or undefined while all is well. */
export type PacketViolation = string | undefined;

/** Packet types a client may send: CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT. */
const CLIENT_TYPES = new Set([1, 3, 4, 5, 6, 7, 8, 10, 12, 14]);

/** A scanner fed with each chunk read from one connection. */
export interface PacketScanner {
  push(chunk: Uint8Array): PacketViolation;
}

const PUBLISH = 3;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;
/** A SUBSCRIBE or UNSUBSCRIBE is read whole; an IoT Hub client's are a few short filters. */
const MAX_SUBSCRIBE_BYTES = 64 * 1024;

/** One connection's scanning state. */
class Scanner implements PacketScanner {
  #state: "type" | "length" | "head" | "body" = "type";
  #type = 0;
  #flags = 0;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  /** Body bytes still to skip unread. */
  #skip = 0;
  /** Body bytes collected for checking, and how many are wanted. */
  #head: number[] = [];
  #wanted = 0;

  constructor(readonly maxPacketBytes: number) {}

  push(chunk: Uint8Array): PacketViolation {
    let at = 0;
    while (at < chunk.length) {
      if (this.#state === "body") {
        const step = Math.min(this.#skip, chunk.length - at);
        this.#skip -= step;
        at += step;
        if (this.#skip === 0) this.#state = "type";
        continue;
      }
      if (this.#state === "head") {
        const step = Math.min(this.#wanted - this.#head.length, chunk.length - at);
        for (let i = 0; i < step; i++) this.#head.push(chunk[at + i]!);
        at += step;
        if (this.#head.length < this.#wanted) continue;
        const violation = this.#headComplete();
        if (violation) return violation;
        continue;
      }
      const violation = this.#headerByte(chunk[at++]!);
      if (violation) return violation;
    }
    return undefined;
  }

  #headerByte(byte: number): PacketViolation {
    if (this.#state === "type") {
      this.#type = byte >> 4;
      this.#flags = byte & 0x0f;
      if (!CLIENT_TYPES.has(this.#type)) {
        return `packet type ${this.#type} is not one a client sends`;
      }
      this.#state = "length";
      this.#length = 0;
      this.#multiplier = 1;
      this.#lengthBytes = 0;
      return undefined;
    }
    this.#length += (byte & 0x7f) * this.#multiplier;
    this.#multiplier *= 128;
    this.#lengthBytes++;
    if (byte & 0x80) return this.#lengthBytes >= 4 ? "malformed remaining length" : undefined;
    if (this.#length > this.maxPacketBytes) {
      return `packet of ${this.#length} bytes exceeds the limit of ${this.maxPacketBytes}`;
    }
    return this.#bodyStarts();
  }

  #bodyStarts(): PacketViolation {
    const type = this.#type;
    if ((type === SUBSCRIBE || type === UNSUBSCRIBE) && this.#flags !== 0b0010) {
      return `reserved flags of packet type ${type} are not 0010`;
    }
    if ((type === SUBSCRIBE || type === UNSUBSCRIBE) && this.#length > MAX_SUBSCRIBE_BYTES) {
      return `packet type ${type} of ${this.#length} bytes exceeds ${MAX_SUBSCRIBE_BYTES}`;
    }
    if (type === PUBLISH || type === SUBSCRIBE || type === UNSUBSCRIBE) {
      // PUBLISH: the topic length first; SUBSCRIBE/UNSUBSCRIBE: the whole (small) body.
      this.#wanted = type === PUBLISH ? Math.min(2, this.#length) : this.#length;
      this.#head = [];
      return this.#wanted === 0 ? this.#headComplete() : (this.#state = "head", undefined);
    }
    this.#skip = this.#length;
    this.#state = this.#skip === 0 ? "type" : "body";
    return undefined;
  }

  /** Called when `#wanted` body bytes are collected: asks for more, or checks them. */
  #headComplete(): PacketViolation {
    const head = this.#head;
    if (this.#type === PUBLISH && head.length === 2 && this.#length > 2) {
      // Now the topic and, at QoS > 0, the packet id.
      const qos = (this.#flags >> 1) & 3;
      const wanted = 2 + (head[0]! << 8 | head[1]!) + (qos > 0 ? 2 : 0);
      if (wanted > this.#length) return "PUBLISH topic runs past the end of the packet";
      this.#wanted = wanted;
      if (wanted > 2) return undefined;
    }
    const violation = checkPacketBody(this.#type, this.#flags, new Uint8Array(head), this.#length);
    if (violation) return violation;
    this.#skip = this.#length - head.length;
    this.#state = this.#skip === 0 ? "type" : "body";
    return undefined;
  }
}

/** Creates a scanner that refuses packets whose remaining length exceeds `maxPacketBytes`. */
export function createPacketScanner(options: { maxPacketBytes: number }): PacketScanner {
  return new Scanner(options.maxPacketBytes);
}
