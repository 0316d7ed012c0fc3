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

/** Starts draining `endpoints` into `session`. */
export function startQueuePump(session: ClientSession, options: QueuePumpOptions): QueuePump {
  const { store, encode } = options;
  const endpoints: string[] = [];
  const heads: Uint8Array[] = [];
  const owners: DeliveryOwner<number>[] = [];
  const unsubscribes: (() => void)[] = [];
  let scheduled = false;
  let stopped = false;
  let waitingForDrain = false;
  let cursor = 0;
  const refillAt = Math.floor(options.maxInflight / 2);

  function schedule(): void {
    if (scheduled || stopped) return;
    scheduled = true;
    queueMicrotask(run);
  }

  function run(): void {
    scheduled = false;
    if (stopped || session.ended || waitingForDrain || endpoints.length === 0) return;
    let idle = 0;
    while (idle < endpoints.length) {
      const room = options.maxInflight - session.inflight();
      if (room <= 0) return;
      const index = cursor++ % endpoints.length;
      const endpoint = endpoints[index]!;
      let batch: QueuedMessage[];
      try {
        batch = store.take(endpoint, room);
      } catch (error) {
        options.onError?.(error);
        return;
      }
      // A short batch means the endpoint is drained for now: asking again would only step over
      // its in-flight messages to find nothing (onEnqueued wakes the pump when more arrive).
      if (batch.length < room) idle++;
      else idle = 0;
      if (batch.length === 0) continue;
      let writable = true;
      const head = heads[index]!;
      const owner = owners[index]!;
      // One write for the whole batch: a syscall per PUBLISH costs more than the PUBLISH.
      session.corked(() => {
        for (const queued of batch) {
          const tail = encode.topicTail(queued);
          // The token is the seq alone: what the session keeps until the PUBACK must not hold
          // the message (written into the batch already; a release re-reads it from the file).
          // Kept for the round trip, it would outlive the young generation (promoted garbage,
          // and a 16 KiB body kept until a mark-compact).
          writable = session.sendTracked(head, tail, queued.message.body, owner, queued.seq);
        }
      });
      if (!writable) {
        waitingForDrain = true;
        session.onDrain(() => {
          waitingForDrain = false;
          schedule();
        });
        return;
      }
    }
  }

  /**
   * What becomes of `endpoint`'s deliveries (told by seq): acked in the store, or released for the
   * next connection.
   */
  function deliveriesOf(endpoint: string): DeliveryOwner<number> {
    return {
      acked(seq) {
        store.ack(endpoint, seq);
        options.onDelivered?.(endpoint);
        // Refill once half the window is free, not per PUBACK: a take per message costs a query
        // per message. Below that there is still plenty in flight.
        if (session.inflight() <= refillAt) schedule();
      },
      lost(seq) {
        store.release(endpoint, [seq]);
      },
    };
  }

  return {
    addEndpoint(endpoint) {
      if (stopped || endpoints.includes(endpoint)) return;
      endpoints.push(endpoint);
      heads.push(encode.topicHead(endpoint));
      owners.push(deliveriesOf(endpoint));
      unsubscribes.push(store.onEnqueued(endpoint, schedule));
      schedule();
    },
    wake: schedule,
    stop() {
      stopped = true;
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
    },
  };
}
