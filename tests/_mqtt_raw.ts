/**
 * A raw MQTT 3.1.1 client for tests that send crafted bytes: packets are built by hand here (not
 * by ledge's codec), written to a real socket, and what comes back is read packet by packet.
 */

const encoder = new TextEncoder();

/** A length-prefixed MQTT string of `text` (or of raw `bytes`). */
export function mqttString(text: string | Uint8Array): number[] {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

function remainingLength(length: number): number[] {
  const out: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    out.push(byte);
  } while (length > 0);
  return out;
}

/** A packet: first byte (type and flags) and body. */
export function rawPacket(first: number, body: number[]): Uint8Array {
  return new Uint8Array([first, ...remainingLength(body.length), ...body]);
}

/** CONNECT, protocol level 4, username and password set, clean session as given. */
export function connectPacket(
  options: {
    clientId: string;
    username: string;
    password: string;
    clean?: boolean;
    keepaliveSeconds?: number;
  },
): Uint8Array {
  const flags = 0xc0 | (options.clean === false ? 0 : 0x02);
  const keepalive = options.keepaliveSeconds ?? 60;
  return rawPacket(0x10, [
    ...mqttString("MQTT"),
    4,
    flags,
    keepalive >> 8,
    keepalive & 0xff,
    ...mqttString(options.clientId),
    ...mqttString(options.username),
    ...mqttString(options.password),
  ]);
}

/** A PUBLISH of `payload` to the topic given as bytes (so a test can make them invalid). */
export function publishPacket(
  topic: string | Uint8Array,
  options: { qos: 0 | 1; packetId?: number; payload?: string },
): Uint8Array {
  const id = options.qos > 0 ? [(options.packetId ?? 1) >> 8, (options.packetId ?? 1) & 0xff] : [];
  return rawPacket(0x30 | (options.qos << 1), [
    ...mqttString(topic),
    ...id,
    ...encoder.encode(options.payload ?? "{}"),
  ]);
}

/** One packet read back: its type, flags and body. */
export interface ReadPacket {
  type: number;
  flags: number;
  body: Uint8Array;
}

/** Reads whole packets from a connection; `next()` resolves null once the peer closed. */
export class PacketReader {
  #buffer = new Uint8Array(0);
  #closed = false;

  constructor(readonly conn: Deno.Conn) {}

  /** The next packet, or null when the connection closed (or was reset) first. */
  async next(): Promise<ReadPacket | null> {
    while (true) {
      const packet = this.#take();
      if (packet) return packet;
      if (this.#closed) return null;
      const chunk = new Uint8Array(65536);
      let n: number | null;
      try {
        n = await this.conn.read(chunk);
      } catch {
        n = null;
      }
      if (n === null) {
        this.#closed = true;
        continue;
      }
      const joined = new Uint8Array(this.#buffer.length + n);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = joined;
    }
  }

  #take(): ReadPacket | null {
    const buffer = this.#buffer;
    let length = 0;
    let multiplier = 1;
    let at = 1;
    while (true) {
      if (at >= buffer.length) return null;
      const byte = buffer[at++]!;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if (!(byte & 0x80)) break;
    }
    if (buffer.length < at + length) return null;
    const packet = {
      type: buffer[0]! >> 4,
      flags: buffer[0]! & 0x0f,
      body: buffer.slice(at, at + length),
    };
    this.#buffer = buffer.slice(at + length);
    return packet;
  }
}

/**
 * Resolves once the peer closed `conn` (EOF or reset), reading and discarding anything before;
 * rejects after `limitMs` so a test that expects a close fails instead of hanging.
 */
export async function closedByPeer(reader: PacketReader, limitMs = 20_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs);
  });
  try {
    await Promise.race([
      (async () => {
        while ((await reader.next()) !== null) { /* discard */ }
      })(),
      limit,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
