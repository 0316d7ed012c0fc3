/**
 * The byte pipes an MQTT connection runs on, behind one small interface: a Deno native socket
 * (`Deno.Conn`, the plain listener) or a node stream (node:tls, which can ask for a client
 * certificate and swap its own in place, and the WebSocket stream). Writes of one turn leave in
 * one write ({@linkcode BatchedWriter}).
 */
import { afterMicrotasks, WRITE_LEVELS } from "../../core/microtasks.ts";
import { writeAll } from "../../core/write_all.ts";
import type { Duplex } from "node:stream";
import { PublishFrame, type TopicTail, writePublish } from "../publish_packet.ts";

/** What a connection needs of its transport. */
export interface ByteTransport {
  /**
   * Starts reading: `onData` per chunk read (only valid during the call: the next read may reuse
   * its buffer), `onClose` once when the pipe closed.
   */
  start(onData: (chunk: Uint8Array) => void, onClose: () => void): void;
  /** Writes one buffer; resolves (or calls back) when the transport took it. */
  write(bytes: Uint8Array, done: () => void): void;
  /**
   * Whether a buffer may be written into again once `write` called back (false for a node
   * stream, which may still hold it).
   */
  readonly reusable: boolean;
  /** Stops and restarts reading (backpressure on a client that publishes faster than it is acked). */
  pause(): void;
  resume(): void;
  /** Closes both directions now. */
  close(): void;
}

/** A transport on a node stream. */
export class StreamTransport implements ByteTransport {
  readonly reusable = false;

  constructor(private readonly stream: Duplex) {}

  start(onData: (chunk: Uint8Array) => void, onClose: () => void): void {
    this.stream.on("data", onData);
    this.stream.once("close", onClose);
    this.stream.on("error", () => this.stream.destroy());
  }

  write(bytes: Uint8Array, done: () => void): void {
    if (this.stream.destroyed) return done();
    if (this.stream.write(bytes)) done();
    else this.stream.once("drain", done);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  close(): void {
    this.stream.destroy();
  }
}

const SMALL_READ_BYTES = 2 * 1024;
const LARGE_READ_BYTES = 64 * 1024;
/**
 * Small reads in a row before a large read buffer is let go: a busy sender's reads are now and
 * then short (the tail of a packet), and each switch back was a new 64 KiB buffer.
 */
const SMALL_READS_BEFORE_SHRINK = 4;

/** A transport on a Deno native connection: a read loop, and writes one after another. */
export class ConnTransport implements ByteTransport {
  readonly reusable = true;
  #paused: (() => void) | undefined;
  #pausing = false;
  #closed = false;

  constructor(private readonly conn: Deno.Conn) {}

  start(onData: (chunk: Uint8Array) => void, onClose: () => void): void {
    this.#readLoop(onData).catch(() => {}).then(() => {
      this.close();
      onClose();
    });
  }

  /**
   * Reads into a small buffer while the client is quiet (an idle connection holds 2 KiB, not 64)
   * and a large one while reads fill it (a busy one takes a burst in one read), until a few
   * reads in a row are small.
   */
  async #readLoop(onData: (chunk: Uint8Array) => void): Promise<void> {
    let buffer = new Uint8Array(SMALL_READ_BYTES);
    let smallReads = 0;
    while (!this.#closed) {
      if (this.#pausing) await new Promise<void>((resume) => this.#paused = resume);
      let n: number | null;
      try {
        n = await this.conn.read(buffer);
      } catch {
        return;
      }
      if (n === null) return;
      // Borrowed: the decoder copies what it keeps (a packet cut by the read), the hub what it
      // stores.
      onData(buffer.subarray(0, n));
      smallReads = n < SMALL_READ_BYTES ? smallReads + 1 : 0;
      if (n === buffer.length && buffer.length < LARGE_READ_BYTES) {
        buffer = new Uint8Array(LARGE_READ_BYTES);
      } else if (smallReads >= SMALL_READS_BEFORE_SHRINK && buffer.length > SMALL_READ_BYTES) {
        buffer = new Uint8Array(SMALL_READ_BYTES);
      }
    }
  }

  write(bytes: Uint8Array, done: () => void): void {
    if (this.#closed) return done();
    writeAll(this.conn, bytes).then(done, () => {
      this.close();
      done();
    });
  }

  pause(): void {
    this.#pausing = true;
  }

  resume(): void {
    this.#pausing = false;
    const resume = this.#paused;
    this.#paused = undefined;
    resume?.();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.resume();
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** Above this many bytes waiting to be written, a sender is told to wait for 'drain'. */
const HIGH_WATER_BYTES = 1 << 20;
/** First size of a connection's batch buffer; it grows to what a turn writes. */
const INITIAL_BATCH_BYTES = 2048;
/**
 * A written batch buffer is kept for a later turn (when the transport allows) up to this size,
 * unless turns in a row filled less than an eighth of it (a burst does not leave a large one
 * behind, and a busy connection whose turns vary keeps its two buffers).
 */
const KEPT_BATCH_BYTES = HIGH_WATER_BYTES;
/** Turns in a row that use less than an eighth of their batch buffer before it is let go. */
const SMALL_TURNS_BEFORE_SHRINK = 8;

/**
 * Gathers the packets written during one turn into one buffer and hands it to the transport in
 * one write; the next batch goes once the transport took the previous one. A PUBLISH is encoded
 * straight into the batch ({@linkcode BatchedWriter.publish}): its payload is copied once, from
 * the store's bytes to the batch. Looks like the node stream the hub's sessions write to
 * (`write` returns false above the high-water mark, then 'drain').
 */
export class BatchedWriter {
  /** The batch being filled (undefined until something is written). */
  #buffer: Uint8Array | undefined;
  #length = 0;
  /** The last batch written, free again (a transport that does not keep what it wrote). */
  #spare: Uint8Array | undefined;
  /**
   * Size of the next batch buffer: the largest batch of recent turns on a transport that lets
   * a buffer be reused, the last batch on one that does not.
   */
  #size = INITIAL_BATCH_BYTES;
  /** Turns in a row that filled less than an eighth of their batch buffer. */
  #smallTurns = 0;
  #scheduled = false;
  #writing = false;
  #drainListeners: (() => void)[] = [];
  readonly #frame = new PublishFrame();
  destroyed = false;

  constructor(private readonly transport: ByteTransport) {}

  /** Queues `bytes` (copied); false when the caller should wait for 'drain'. */
  write(bytes: Uint8Array): boolean {
    if (this.destroyed) return false;
    const at = this.#reserve(bytes.length);
    this.#buffer!.set(bytes, at);
    return this.#queued();
  }

  /** Queues a PUBACK of `packetId`. */
  puback(packetId: number): boolean {
    if (this.destroyed) return false;
    const at = this.#reserve(4);
    const out = this.#buffer!;
    out[at] = 0x40;
    out[at + 1] = 2;
    out[at + 2] = packetId >> 8;
    out[at + 3] = packetId & 0xff;
    return this.#queued();
  }

  /**
   * Queues a PUBLISH of `payload` on topic `head` + `tail` (QoS 1: with `packetId`), encoded in
   * place; false when the caller should wait for 'drain'.
   */
  publish(
    head: Uint8Array | undefined,
    tail: TopicTail,
    payload: Uint8Array,
    qos: 0 | 1,
    packetId: number,
  ): boolean {
    if (this.destroyed) return false;
    const frame = this.#frame.measure(head, tail, payload, qos);
    const at = this.#reserve(frame.size);
    writePublish(this.#buffer!, at, frame, head, tail, payload, qos, packetId);
    return this.#queued();
  }

  once(_event: "drain", listener: () => void): void {
    this.#drainListeners.push(listener);
  }

  /** Runs `then` once everything queued so far has been handed to the transport. */
  afterFlush(then: () => void): void {
    if (this.#length === 0 && !this.#writing) return then();
    this.#drainListeners.push(then);
  }

  /** Room for `bytes` more in the batch; returns where they go. */
  #reserve(bytes: number): number {
    const at = this.#length;
    const buffer = this.#buffer;
    if (buffer === undefined || at + bytes > buffer.length) {
      let size = buffer?.length ?? this.#size;
      while (size < at + bytes) size *= 2;
      if (this.transport.reusable) {
        this.#size = Math.min(KEPT_BATCH_BYTES, Math.max(this.#size, size));
      }
      const grown = this.#spare !== undefined && this.#spare.length >= size
        ? this.#spare
        : new Uint8Array(size);
      if (grown === this.#spare) this.#spare = undefined;
      if (buffer !== undefined && at > 0) grown.set(buffer.subarray(0, at));
      this.#buffer = grown;
    }
    this.#length = at + bytes;
    return at;
  }

  #queued(): boolean {
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      // After the microtasks already queued, so one turn's packets leave together.
      afterMicrotasks(WRITE_LEVELS, () => this.#flush());
    }
    return this.#length < HIGH_WATER_BYTES;
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.destroyed || this.#length === 0) return this.#drained();
    const batch = this.#buffer!;
    const bytes = batch.subarray(0, this.#length);
    // The next batch goes into the spare buffer, or one of `#size` once something is written.
    this.#buffer = this.#spare;
    this.#spare = undefined;
    this.#length = 0;
    if (!this.transport.reusable) this.#size = Math.max(INITIAL_BATCH_BYTES, bytes.length);
    this.#writing = true;
    this.transport.write(bytes, () => {
      this.#writing = false;
      this.#keep(batch, bytes.length);
      if (this.#length > 0) this.#flush();
      else this.#drained();
    });
  }

  /** Keeps a written batch buffer for a later turn, unless turns have long used little of it. */
  #keep(batch: Uint8Array, used: number): void {
    if (!this.transport.reusable || batch.length > KEPT_BATCH_BYTES) return;
    if (used >= batch.length / 8 || batch.length <= INITIAL_BATCH_BYTES) this.#smallTurns = 0;
    else if (++this.#smallTurns >= SMALL_TURNS_BEFORE_SHRINK) {
      this.#smallTurns = 0;
      this.#size = INITIAL_BATCH_BYTES;
      return;
    }
    if (this.#buffer === undefined) this.#buffer = batch;
    else if (this.#spare === undefined || this.#spare.length < batch.length) this.#spare = batch;
  }

  #drained(): void {
    for (const listener of this.#drainListeners.splice(0)) listener();
  }

  /** Drops what is queued and tells waiters. */
  destroy(): void {
    this.destroyed = true;
    this.#buffer = undefined;
    this.#spare = undefined;
    this.#length = 0;
    this.#drained();
  }
}
