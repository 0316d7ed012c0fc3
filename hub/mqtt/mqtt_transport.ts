/**
 * The byte pipes an MQTT connection runs on, behind one small interface: a Deno native socket
 * (`Deno.Conn`, the plain listener) or a node stream (node:tls, which can ask for a client
 * certificate and swap its own in place, and the WebSocket stream). Writes of one turn leave in
 * one write ({@linkcode BatchedWriter}).
 */
import { writeAll } from "../../core/write_all.ts";
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";

/** What a connection needs of its transport. */
export interface ByteTransport {
  /**
   * Starts reading: `onData` per chunk read (only valid during the call: the next read may reuse
   * its buffer), `onClose` once when the pipe closed.
   */
  start(onData: (chunk: Uint8Array) => void, onClose: () => void): void;
  /** Writes one buffer; resolves (or calls back) when the transport took it. */
  write(bytes: Uint8Array, done: () => void): void;
  /** Stops and restarts reading (backpressure on a client that publishes faster than it is acked). */
  pause(): void;
  resume(): void;
  /** Closes both directions now. */
  close(): void;
}

/** A transport on a node stream. */
export class StreamTransport implements ByteTransport {
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

/** A transport on a Deno native connection: a read loop, and writes one after another. */
export class ConnTransport implements ByteTransport {
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
   * and a large one while reads fill it (a busy one takes a burst in one read).
   */
  async #readLoop(onData: (chunk: Uint8Array) => void): Promise<void> {
    let buffer = new Uint8Array(SMALL_READ_BYTES);
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
      if (n === buffer.length && buffer.length < LARGE_READ_BYTES) {
        buffer = new Uint8Array(LARGE_READ_BYTES);
      } else if (n < SMALL_READ_BYTES && buffer.length > SMALL_READ_BYTES) {
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

/**
 * Gathers the packets written during one turn and hands them to the transport in one write; the
 * next batch goes once the transport took the previous one. Looks like the node stream the
 * hub's sessions write to (`write` returns false above the high-water mark, then 'drain').
 */
export class BatchedWriter {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #scheduled = false;
  #writing = false;
  #drainListeners: (() => void)[] = [];
  destroyed = false;

  constructor(private readonly transport: ByteTransport) {}

  /** Queues `bytes`; false when the caller should wait for 'drain'. */
  write(bytes: Uint8Array): boolean {
    if (this.destroyed) return false;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      // After the microtasks already queued, so one turn's packets (PUBACKs of a group commit,
      // a burst of deliveries) leave together.
      queueMicrotask(() => queueMicrotask(() => this.#flush()));
    }
    return this.#pendingBytes < HIGH_WATER_BYTES;
  }

  once(_event: "drain", listener: () => void): void {
    this.#drainListeners.push(listener);
  }

  /** Runs `then` once everything queued so far has been handed to the transport. */
  afterFlush(then: () => void): void {
    if (this.#pendingBytes === 0 && !this.#writing) return then();
    this.#drainListeners.push(then);
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.destroyed || this.#pending.length === 0) return this.#drained();
    const chunks = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writing = true;
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.transport.write(bytes, () => {
      this.#writing = false;
      if (this.#pending.length > 0) this.#flush();
      else this.#drained();
    });
  }

  #drained(): void {
    for (const listener of this.#drainListeners.splice(0)) listener();
  }

  /** Drops what is queued and tells waiters. */
  destroy(): void {
    this.destroyed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#drained();
  }
}
