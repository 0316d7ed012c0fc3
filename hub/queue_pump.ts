/**
 * Drains endpoint queues into one connected client: takes what fits in the client's inflight
 * window, sends each message QoS 1, acks it in the store on PUBACK, and releases it back to the
 * queue if the connection ends first (at-least-once; order per endpoint by priority then arrival).
 */
import type { MessageStore, QueuedMessage } from "../store/mod.ts";
import type { ClientSession, DeliveryOwner } from "./client_session.ts";
import type { TopicTail } from "./publish_packet.ts";

/**
 * How a queued message becomes a PUBLISH for this client: its topic is the endpoint's head
 * (`devices/d/modules/m/inputs/in/`, UTF-8, asked once per endpoint) and the message's tail (its
 * property bag); the payload is the body.
 */
export interface DeliveryEncoder {
  topicHead(endpoint: string): Uint8Array;
  /** Read before the next call: an encoder may hand out one object again and again. */
  topicTail(queued: QueuedMessage): TopicTail;
}

/** A running pump; `stop` unsubscribes (unacked deliveries are released by the session end). */
export interface QueuePump {
  /** Adds an endpoint to drain (idempotent). */
  addEndpoint(endpoint: string): void;
  /** Wakes the pump (e.g. after a PUBACK). */
  wake(): void;
  stop(): void;
}

/** Options of {@linkcode startQueuePump}. */
export interface QueuePumpOptions {
  store: MessageStore;
  maxInflight: number;
  encode: DeliveryEncoder;
  /** Called per message the client acknowledged. */
  onDelivered?: (endpoint: string) => void;
  /** Called when taking from the store fails (the store is closing, the disk failed). */
  onError?: (error: unknown) => void;
}

/** One endpoint a pump drains. */
interface PumpedEndpoint {
  readonly name: string;
  /** Its topic head, encoded once. */
  readonly head: Uint8Array;
  /** What becomes of its deliveries. */
  readonly owner: DeliveryOwner<number>;
  /** Stops waking the pump when messages arrive. */
  readonly unsubscribe: () => void;
}

/**
 * What becomes of `endpoint`'s deliveries, told by seq: acked in the store (then `afterAck`), or
 * released for the next connection. The seq alone, not the message: what the session keeps until
 * the PUBACK must not hold the message (written into the batch already; a release re-reads it from
 * the file). Kept for the round trip, it would outlive the young generation (promoted garbage, and
 * a 16 KiB body kept until a mark-compact).
 */
function deliveryOwner(
  store: MessageStore,
  endpoint: string,
  afterAck: (endpoint: string) => void,
): DeliveryOwner<number> {
  return {
    acked(seq) {
      store.ack(endpoint, seq);
      afterAck(endpoint);
    },
    lost(seq) {
      store.release(endpoint, [seq]);
    },
  };
}

/** A pump: round robin over its endpoints, as much as the client's inflight window takes. */
class Pump implements QueuePump {
  readonly #session: ClientSession;
  readonly #options: QueuePumpOptions;
  readonly #endpoints: PumpedEndpoint[] = [];
  /** Refill once half the window is free, not per PUBACK: a take per message costs a query. */
  readonly #refillAt: number;
  #scheduled = false;
  #stopped = false;
  #waitingForDrain = false;
  #cursor = 0;
  /** Runs the pump in a microtask; one at a time however often it is woken. */
  readonly wake = (): void => {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    queueMicrotask(this.#run);
  };
  readonly #run = (): void => this.#drain();
  readonly #afterAck = (endpoint: string): void => {
    this.#options.onDelivered?.(endpoint);
    // Below half the window there is still plenty in flight.
    if (this.#session.inflight() <= this.#refillAt) this.wake();
  };

  constructor(session: ClientSession, options: QueuePumpOptions) {
    this.#session = session;
    this.#options = options;
    this.#refillAt = Math.floor(options.maxInflight / 2);
  }

  addEndpoint(name: string): void {
    if (this.#stopped || this.#endpoints.some((endpoint) => endpoint.name === name)) return;
    const { store, encode } = this.#options;
    this.#endpoints.push({
      name,
      head: encode.topicHead(name),
      owner: deliveryOwner(store, name, this.#afterAck),
      unsubscribe: store.onEnqueued(name, this.wake),
    });
    this.wake();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const endpoint of this.#endpoints) endpoint.unsubscribe();
  }

  /** Takes and sends until the window is full, every endpoint is drained, or the socket is. */
  #drain(): void {
    this.#scheduled = false;
    const session = this.#session;
    const endpoints = this.#endpoints;
    if (this.#stopped || session.ended || this.#waitingForDrain || endpoints.length === 0) return;
    let idle = 0;
    while (idle < endpoints.length) {
      const room = this.#options.maxInflight - session.inflight();
      if (room <= 0) return;
      const endpoint = endpoints[this.#cursor++ % endpoints.length]!;
      let batch: QueuedMessage[];
      try {
        batch = this.#options.store.take(endpoint.name, room);
      } catch (error) {
        this.#options.onError?.(error);
        return;
      }
      // A short batch means the endpoint is drained for now: asking again would only step over
      // its in-flight messages to find nothing (onEnqueued wakes the pump when more arrive).
      if (batch.length < room) idle++;
      else idle = 0;
      if (batch.length > 0 && !this.#send(endpoint, batch)) return this.#awaitDrain();
    }
  }

  /**
   * Sends `batch` in one write (a syscall per PUBLISH costs more than the PUBLISH); false when
   * the socket is full.
   */
  #send(endpoint: PumpedEndpoint, batch: readonly QueuedMessage[]): boolean {
    const { encode } = this.#options;
    let writable = true;
    this.#session.corked(() => {
      for (const queued of batch) {
        const tail = encode.topicTail(queued);
        writable = this.#session.sendTracked(
          endpoint.head,
          tail,
          queued.message.body,
          endpoint.owner,
          queued.seq,
        );
      }
    });
    return writable;
  }

  #awaitDrain(): void {
    this.#waitingForDrain = true;
    this.#session.onDrain(() => {
      this.#waitingForDrain = false;
      this.wake();
    });
  }
}

/** Starts draining `endpoints` into `session`. */
export function startQueuePump(session: ClientSession, options: QueuePumpOptions): QueuePump {
  return new Pump(session, options);
}
