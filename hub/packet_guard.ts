/**
 * An incremental scanner of MQTT fixed headers: it reads each packet's type and remaining
 * length as bytes arrive (skipping bodies unread) and reports the first packet that is larger
 * than allowed, has a malformed length, or is a type a client never sends — so a connection can
 * be closed before a huge packet is buffered.
 */

/** What the scanner found wrong, or undefined while all is well. */
export type PacketViolation = string | undefined;

/** Packet types a client may send: CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT. */
const CLIENT_TYPES = new Set([1, 3, 4, 5, 6, 7, 8, 10, 12, 14]);

/** A scanner fed with each chunk read from one connection. */
export interface PacketScanner {
  push(chunk: Uint8Array): PacketViolation;
}

/** Creates a scanner that refuses packets whose remaining length exceeds `maxPacketBytes`. */
export function createPacketScanner(options: { maxPacketBytes: number }): PacketScanner {
  let state: "type" | "length" | "body" = "type";
  let skip = 0;
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  return {
    push(chunk) {
      let at = 0;
      while (at < chunk.length) {
        if (state === "body") {
          const step = Math.min(skip, chunk.length - at);
          skip -= step;
          at += step;
          if (skip === 0) state = "type";
          continue;
        }
        const byte = chunk[at++]!;
        if (state === "type") {
          const type = byte >> 4;
          if (!CLIENT_TYPES.has(type)) return `packet type ${type} is not one a client sends`;
          state = "length";
          length = 0;
          multiplier = 1;
          lengthBytes = 0;
          continue;
        }
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes++;
        if (byte & 0x80) {
          if (lengthBytes >= 4) return "malformed remaining length";
          continue;
        }
        if (length > options.maxPacketBytes) {
          return `packet of ${length} bytes exceeds the limit of ${options.maxPacketBytes}`;
        }
        skip = length;
        state = skip === 0 ? "type" : "body";
      }
      return undefined;
    },
  };
}
