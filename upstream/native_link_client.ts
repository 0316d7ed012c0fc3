/**
 * ledge's own MQTT 3.1.1 client for the link to the parent, over `Deno.connectTls` (native TLS):
 * the packets of one turn leave in one write, a PUBACK costs a map lookup, the keep-alive is one
 * timer ticking at half the interval (not rescheduled per packet). mqtt.js over node:tls spent
 * most of the upstream drain's CPU on a write per packet and per-packet timers.
 *
 * @module
 */
import { writeAll } from "../core/write_all.ts";
import type { ConnectSettings } from "./connect_settings.ts";
import type { LinkClient, LinkHandlers, LinkOptions } from "./link_client.ts";
import { PacketWriter, ParentPacketReader } from "./mqtt_client_codec.ts";
import { connectPinnedTls, type LinkStream } from "./pinned_tls.ts";

const READ_BYTES = 64 * 1024;

const CONNACK_TEXT: Record<number, string> = {
  1: "Unacceptable protocol version",
  2: "Identifier rejected",
  3: "Server unavailable",
  4: "Bad username or password",
  5: "Not authorized",
};

/** The reason a CONNACK refused, shaped as mqtt.js reports it (`code` is the return code). */
function connackError(code: number): Error {
  return Object.assign(
    new Error(`Connection refused: ${CONNACK_TEXT[code] ?? `return code ${code}`}`),
    { code },
  );
}

function tlsOptions(
  settings: ConnectSettings,
): Deno.ConnectTlsOptions & Partial<Deno.TlsCertifiedKeyPem> {
  const url = new URL(settings.url);
  const options: Deno.ConnectTlsOptions & Partial<Deno.TlsCertifiedKeyPem> = {
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? 8883 : Number(url.port),
  };
  if (settings.cert !== undefined && settings.key !== undefined) {
    options.cert = settings.cert;
    options.key = settings.key;
  }
  return options;
}

/**
 * The TLS connection. With `upstream.ca_file`: node:tls trusting that CA alone (Deno's `caCerts`
 * would add it to the public roots). Otherwise Deno's TLS on the default roots: without a client
 * certificate, TCP with Nagle's algorithm off, then TLS (a turn's batch must not wait for the
 * parent's ACK of the previous one); with one, `Deno.connectTls`, which leaves Nagle on but is
 * the only one that presents a client certificate (`Deno.startTls` does not).
 */
async function openTls(settings: ConnectSettings): Promise<LinkStream> {
  const options = tlsOptions(settings);
  if (settings.ca !== undefined) {
    return await connectPinnedTls({
      hostname: options.hostname!,
      port: options.port,
      ca: settings.ca,
      ...(options.cert !== undefined ? { cert: options.cert, key: options.key! } : {}),
    });
  }
  if (options.cert !== undefined) return await Deno.connectTls(options);
  const tcp = await Deno.connect({ hostname: options.hostname!, port: options.port });
  tcp.setNoDelay(true);
  return await Deno.startTls(tcp, { hostname: options.hostname! });
}

/** One attempt: connect, CONNECT, then publish and read until closed. */
export class NativeLinkClient implements LinkClient {
  readonly #handlers: LinkHandlers;
  readonly #keepaliveMs: number;
  readonly #out = new PacketWriter();
  readonly #reader: ParentPacketReader;
  readonly #inflight = new Map<number, (error?: Error) => void>();
  readonly #subscribing = new Map<number, (codes: number[] | Error) => void>();
  #conn: LinkStream | undefined;
  #closed = false;
  #connected = false;
  #writing = false;
  #flushQueued = false;
  #nextId = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wroteSinceTick = false;
  #readSinceTick = false;
  #pinging = false;
  /** Incoming PUBLISHes are handled one after another. */
  #inbound: Promise<void> = Promise.resolve();
  #ended: Promise<void>;
  #flush = (): void => this.#write();

  constructor(settings: ConnectSettings, options: LinkOptions, handlers: LinkHandlers) {
    this.#handlers = handlers;
    this.#keepaliveMs = options.keepaliveSeconds * 1000;
    this.#reader = new ParentPacketReader({
      connack: (_present, code) => this.#onConnack(code),
      puback: (id) => this.#onPuback(id),
      suback: (id, codes) => this.#onSuback(id, codes),
      pingresp: () => {},
      publish: (topic, payload, qos, id) => this.#onPublish(topic, payload, qos, id),
    });
    this.#timer = setTimeout(
      () => this.#shutdown(new Error("connack timeout: the parent did not answer CONNECT")),
      options.connectTimeoutMs,
    );
    this.#out.connect({
      clientId: settings.clientId,
      username: settings.username,
      ...(settings.password === undefined ? {} : { password: settings.password }),
      keepaliveSeconds: options.keepaliveSeconds,
      cleanSession: false,
    });
    this.#ended = this.#run(settings).catch((error) => this.#shutdown(error));
  }

  publish(topic: string, payload: Uint8Array, qos: 0 | 1, done: (error?: Error) => void): void {
    if (this.#closed) {
      queueMicrotask(() => done(new Error("the connection is closed")));
      return;
    }
    let id = 0;
    if (qos === 1) {
      id = this.#packetId();
      this.#inflight.set(id, done);
    }
    this.#out.publish(topic, payload, qos, id);
    this.#schedule();
    if (qos === 0) queueMicrotask(done);
  }

  subscribe(filters: readonly string[]): Promise<number[]> {
    if (this.#closed) return Promise.reject(new Error("the connection is closed"));
    return new Promise((resolve, reject) => {
      const id = this.#packetId();
      this.#subscribing.set(id, (codes) => codes instanceof Error ? reject(codes) : resolve(codes));
      this.#out.subscribe(id, filters);
      this.#schedule();
    });
  }

  end(): void {
    this.#shutdown(undefined);
  }

  async endAsync(): Promise<void> {
    this.#shutdown(undefined);
    await this.#ended;
  }

  async #run(settings: ConnectSettings): Promise<void> {
    const conn = await openTls(settings);
    if (this.#closed) return conn.close();
    this.#conn = conn;
    await conn.handshake();
    this.#write();
    const buffer = new Uint8Array(READ_BYTES);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return this.#shutdown(undefined);
      if (this.#closed) return;
      this.#readSinceTick = true;
      this.#pinging = false;
      this.#reader.push(buffer.subarray(0, n));
    }
  }

  #packetId(): number {
    let id = this.#nextId;
    while (this.#inflight.has(id) || this.#subscribing.has(id)) id = id === 65535 ? 1 : id + 1;
    this.#nextId = id === 65535 ? 1 : id + 1;
    return id;
  }

  /** Writes after the microtasks already queued, so one turn's packets leave together. */
  #schedule(): void {
    if (this.#flushQueued || this.#writing) return;
    this.#flushQueued = true;
    queueMicrotask(this.#flush);
  }

  #write(): void {
    this.#flushQueued = false;
    const conn = this.#conn;
    if (this.#closed || conn === undefined || this.#writing || this.#out.length === 0) return;
    this.#writing = true;
    this.#wroteSinceTick = true;
    writeAll(conn, this.#out.take()).then(() => {
      this.#writing = false;
      this.#write();
    }, (error) => this.#shutdown(error));
  }

  #onConnack(code: number): void {
    if (this.#connected) throw new Error("a second CONNACK from the parent");
    if (code !== 0) return this.#shutdown(connackError(code));
    this.#connected = true;
    clearTimeout(this.#timer);
    this.#tick();
    this.#handlers.connected();
  }

  /** Every half keep-alive: PINGREQ if nothing was written; closes if a ping got no answer. */
  #tick(): void {
    this.#timer = setTimeout(() => {
      if (this.#closed) return;
      if (this.#pinging && !this.#readSinceTick) {
        return this.#shutdown(new Error("keepalive timeout: the parent did not answer PINGREQ"));
      }
      if (!this.#wroteSinceTick) {
        this.#pinging = true;
        this.#out.pingreq();
        this.#schedule();
      }
      this.#wroteSinceTick = false;
      this.#readSinceTick = false;
      this.#tick();
    }, this.#keepaliveMs / 2);
  }

  #onPuback(id: number): void {
    const done = this.#inflight.get(id);
    if (done === undefined) return;
    this.#inflight.delete(id);
    done();
  }

  #onSuback(id: number, codes: number[]): void {
    const settle = this.#subscribing.get(id);
    this.#subscribing.delete(id);
    settle?.(codes);
  }

  #onPublish(topic: string, payload: Uint8Array, qos: 0 | 1, id: number): void {
    this.#inbound = this.#inbound.then(async () => {
      if (this.#closed) return;
      try {
        await this.#handlers.message(topic, payload);
      } catch {
        // No PUBACK: drop the link so the parent delivers the message again.
        return this.#shutdown(undefined);
      }
      if (qos === 1 && !this.#closed) {
        this.#out.puback(id);
        this.#schedule();
      }
    });
  }

  #shutdown(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    const failure = new Error("the connection closed before the parent's answer");
    const inflight = [...this.#inflight.values()];
    const subscribing = [...this.#subscribing.values()];
    this.#inflight.clear();
    this.#subscribing.clear();
    if (error !== undefined) this.#handlers.error(error);
    for (const done of inflight) done(failure);
    for (const settle of subscribing) settle(failure);
    queueMicrotask(() => this.#handlers.closed());
  }
}
