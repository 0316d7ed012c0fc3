/**
 * TLS to the parent that trusts only `upstream.ca_file`. `Deno.connectTls`' `caCerts` are trusted
 * *in addition to* the default roots, so a certificate from any public CA for the parent's host
 * name would pass; node:tls' `ca` replaces the roots. The link's byte stream over a node:tls
 * socket, shaped as the part of `Deno.Conn` the link client uses.
 *
 * @module
 */
import tls from "node:tls";
import { isIP } from "node:net";

/** What the link client reads, writes and closes. */
export interface LinkStream {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
  handshake(): Promise<unknown>;
}

/** Connects with only `ca` trusted (and the client certificate, when given). */
export async function connectPinnedTls(
  options: { hostname: string; port: number; ca: string; cert?: string; key?: string },
): Promise<LinkStream> {
  const socket = tls.connect({
    host: options.hostname,
    port: options.port,
    ca: options.ca,
    ...(isIP(options.hostname) ? {} : { servername: options.hostname }),
    ...(options.cert !== undefined && options.key !== undefined
      ? { cert: options.cert, key: options.key }
      : {}),
  });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  return new SocketStream(socket);
}

/** Chunks as they arrive, handed to `read` in order. */
class SocketStream implements LinkStream {
  readonly #socket: tls.TLSSocket;
  readonly #chunks: Uint8Array[] = [];
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error = error;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#chunks[0]!;
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error) => error ? reject(error) : resolve(bytes.length));
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  handshake(): Promise<void> {
    return Promise.resolve();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
