/**
 * One client's MQTT connection: bytes from the transport through the strict decoder, CONNECT
 * first (and only once), then PUBLISH, PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT. What
 * they mean for the hub is the owner's ({@linkcode ConnectionOwner}, the broker); this class
 * keeps the protocol's order: PUBACKs leave in the order the PUBLISHes came (sec. 4.6), each only
 * once its message is handled (durable); a refused publish closes the connection after the
 * PUBACKs of the ones before it. Keepalive: no packet for 1.5 x the client's keepalive closes it.
 */
import type { ClientSession } from "../client_session.ts";
import type { GateTicket } from "../connection_gate.ts";
import { MqttDecoder, MqttProtocolError } from "./mqtt_decoder.ts";
import {
  type ClientPacket,
  type ConnectPacket,
  encodeConnack,
  encodeSuback,
  encodeUnsuback,
  type InboundPublish,
  type OversizedPublish,
  PINGRESP,
} from "./mqtt_packets.ts";
import { BatchedWriter, type ByteTransport } from "./mqtt_transport.ts";

/** The outcome of a CONNECT, decided by the owner. */
export type ConnectOutcome =
  | { ok: true; session: ClientSession; sessionPresent: boolean; afterConnack(): void }
  | { ok: false; code: number };

/** What a connection asks of the broker. */
export interface ConnectionOwner {
  connect(connection: MqttConnection, packet: ConnectPacket): ConnectOutcome;
  /** Handles a publish; resolve to acknowledge, reject (or throw) to close the connection. */
  publish(session: ClientSession, packet: InboundPublish): Promise<void> | void;
  /** A QoS 1 publish above the limit: true to acknowledge (and drop) it, false to close. */
  oversized(session: ClientSession, packet: OversizedPublish): boolean;
  /** Return codes (granted QoS or 0x80) for the filters; `granted` runs after the SUBACK. */
  subscribe(session: ClientSession, filters: { topic: string; qos: number }[]): {
    codes: number[];
    granted(): void;
  };
  unsubscribe(session: ClientSession, topics: string[]): void;
  /** The connection broke the protocol (counted and logged). */
  violation(connection: MqttConnection, reason: string): void;
  closed(connection: MqttConnection): void;
}

/** Stop reading a client that has this many publishes being handled (QoS 1 waiting for their
 * PUBACK, QoS 0 still being stored); read again once half of them are done. */
const MAX_UNSETTLED_PUBLISHES = 1024;

/**
 * QoS 1 publishes whose PUBACKs wait on one result: the store resolves every message of a group
 * commit with the same promise, so a burst read in one turn waits on one handler, not one each.
 */
interface PendingAcks {
  packetIds: number[];
  result: Promise<void> | undefined;
  state: "waiting" | "done" | "failed";
}

/** QoS 0 publishes still being stored with one result (see {@linkcode PendingAcks}). */
interface PendingQos0 {
  count: number;
}

/** One client connection. */
export class MqttConnection {
  readonly writer: BatchedWriter;
  session: ClientSession | undefined;
  #decoder: MqttDecoder;
  #acks: PendingAcks[] = [];
  /** QoS 1 publishes in `#acks`. */
  #unacked = 0;
  #qos0Result: Promise<void> | undefined;
  #qos0Pending: PendingQos0 | undefined;
  #closed = false;
  /** Closing once written: nothing more is read. */
  #closing = false;
  #paused = false;
  /** QoS 0 publishes whose handling has not finished. */
  #unsettledQos0 = 0;
  #keepaliveMs = 0;
  #lastSeen = 0;
  #keepaliveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly transport: ByteTransport,
    readonly info: {
      source: string;
      peerChain: readonly Uint8Array[];
      listener: string;
      ticket?: GateTicket | undefined;
    },
    private readonly owner: ConnectionOwner,
    maxPacketBytes: number,
  ) {
    this.writer = new BatchedWriter(transport);
    this.#decoder = new MqttDecoder(maxPacketBytes);
  }

  /** Starts reading. */
  start(): void {
    this.transport.start((chunk) => this.#receive(chunk), () => this.#onClosed());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the connection (nothing queued is sent). */
  close(): void {
    if (this.#closed) return;
    this.transport.close();
    this.#onClosed();
  }

  /** Closes once what is queued has been written. */
  closeAfterFlush(): void {
    this.#closing = true;
    this.writer.afterFlush(() => this.close());
  }

  #receive(chunk: Uint8Array): void {
    if (this.#closed || this.#closing) return;
    this.#lastSeen = Date.now();
    try {
      this.#decoder.push(chunk, (packet) => {
        if (!this.#closed && !this.#closing) this.#handle(packet);
      });
    } catch (error) {
      // A broken packet, or a packet the hub could not handle: either way only this connection
      // goes (an exception here would otherwise reach the socket's event loop).
      const reason = error instanceof MqttProtocolError
        ? error.message
        : `Cannot handle a packet: ${(error as Error).message}`;
      this.owner.violation(this, reason);
      this.close();
    }
  }

  #handle(packet: ClientPacket): void {
    if (this.session === undefined) {
      if (packet.type !== "connect") throw new MqttProtocolError(`${packet.type} before CONNECT`);
      return this.#connect(packet);
    }
    switch (packet.type) {
      case "publish":
        return this.#publish(this.session, packet);
      case "oversized-publish":
        // Refused like any publish (the client sends it again), or acknowledged in order.
        this.#acks.push({
          packetIds: [packet.packetId],
          result: undefined,
          state: this.owner.oversized(this.session, packet) ? "done" : "failed",
        });
        this.#unacked++;
        return this.#flushAcks();
      case "puback":
        this.session.settle(packet.packetId);
        return;
      case "subscribe": {
        const { codes, granted } = this.owner.subscribe(this.session, packet.filters);
        this.writer.write(encodeSuback(packet.packetId, codes));
        granted();
        return;
      }
      case "unsubscribe":
        this.owner.unsubscribe(this.session, packet.topics);
        this.writer.write(encodeUnsuback(packet.packetId));
        return;
      case "pingreq":
        this.writer.write(PINGRESP);
        return;
      case "disconnect":
        this.closeAfterFlush();
        return;
      case "connect":
        throw new MqttProtocolError("a second CONNECT (sec. 3.1.0)");
      case "qos2":
        throw new MqttProtocolError("QoS 2 is not supported");
    }
  }

  #connect(packet: ConnectPacket): void {
    const outcome = this.owner.connect(this, packet);
    if (!outcome.ok) {
      this.writer.write(encodeConnack(false, outcome.code));
      this.closeAfterFlush();
      return;
    }
    this.session = outcome.session;
    this.info.ticket?.established();
    this.writer.write(encodeConnack(outcome.sessionPresent, 0));
    this.#startKeepalive(packet.keepaliveSeconds);
    outcome.afterConnack();
  }

  #publish(session: ClientSession, packet: InboundPublish): void {
    if (packet.qos === 2) throw new MqttProtocolError("QoS 2 is not supported");
    let result: Promise<void> | void;
    try {
      result = this.owner.publish(session, packet);
    } catch {
      result = Promise.reject();
    }
    if (packet.qos === 0) {
      if (result) this.#storingQos0(result);
      return;
    }
    if (!result && this.#acks.length === 0) {
      this.writer.puback(packet.packetId);
      return;
    }
    this.#unacked++;
    const last = this.#acks[this.#acks.length - 1];
    if (result && last !== undefined && last.result === result) {
      last.packetIds.push(packet.packetId);
      return this.#checkPause();
    }
    const pending: PendingAcks = {
      packetIds: [packet.packetId],
      result: result || undefined,
      state: result ? "waiting" : "done",
    };
    this.#acks.push(pending);
    if (!result) return this.#flushAcks();
    this.#checkPause();
    result.then(
      () => {
        pending.state = "done";
        this.#flushAcks();
      },
      () => {
        pending.state = "failed";
        this.#flushAcks();
      },
    );
  }

  /** Counts a QoS 0 publish being stored (backpressure); a refusal closes the connection. */
  #storingQos0(result: Promise<void>): void {
    this.#unsettledQos0++;
    if (result === this.#qos0Result) {
      this.#qos0Pending!.count++;
      return this.#checkPause();
    }
    const pending: PendingQos0 = { count: 1 };
    this.#qos0Result = result;
    this.#qos0Pending = pending;
    this.#checkPause();
    const settle = () => {
      this.#unsettledQos0 -= pending.count;
      if (this.#qos0Pending === pending) {
        this.#qos0Result = undefined;
        this.#qos0Pending = undefined;
      }
      this.#checkPause();
    };
    result.then(settle, () => {
      this.#refused();
      settle();
    });
  }

  /** Writes the PUBACKs that are due, in order; a failed publish closes the connection. */
  #flushAcks(): void {
    const acks = this.#acks;
    let done = 0;
    while (done < acks.length && acks[done]!.state !== "waiting") {
      const ack = acks[done]!;
      if (ack.state === "failed") {
        acks.length = 0;
        this.#unacked = 0;
        this.#refused();
        return;
      }
      for (const packetId of ack.packetIds) this.writer.puback(packetId);
      this.#unacked -= ack.packetIds.length;
      done++;
    }
    if (done > 0) acks.splice(0, done);
    this.#checkPause();
  }

  /** Backpressure on a client that publishes faster than its messages are handled. */
  #checkPause(): void {
    const unsettled = this.#unacked + this.#unsettledQos0;
    if (!this.#paused && unsettled >= MAX_UNSETTLED_PUBLISHES) {
      this.#paused = true;
      this.transport.pause();
    } else if (this.#paused && unsettled < MAX_UNSETTLED_PUBLISHES / 2) {
      this.#paused = false;
      this.transport.resume();
    }
  }

  /** A publish was refused: the client retries what was not acknowledged on its next connection. */
  #refused(): void {
    this.#closing = true;
    this.closeAfterFlush();
  }

  #startKeepalive(seconds: number): void {
    if (seconds === 0) return;
    this.#keepaliveMs = seconds * 1500;
    const check = () => {
      if (this.#closed) return;
      const idle = Date.now() - this.#lastSeen;
      if (idle >= this.#keepaliveMs) {
        this.owner.violation(this, `no packet within 1.5 x keepalive (${seconds} s)`);
        this.close();
        return;
      }
      this.#keepaliveTimer = setTimeout(check, this.#keepaliveMs - idle);
    };
    this.#keepaliveTimer = setTimeout(check, this.#keepaliveMs);
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.info.ticket?.release();
    clearTimeout(this.#keepaliveTimer);
    this.writer.destroy();
    this.#acks.length = 0;
    this.#unacked = 0;
    this.owner.closed(this);
  }
}
