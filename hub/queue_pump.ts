/**
 * Drains endpoint queues into one connected client: takes what fits in the client's inflight
 * window, sends each message QoS 1, acks it in the store on PUBACK, and releases it back to the
 * queue if the connection ends first (at-least-once; order per endpoint by priority then arrival).
 */
import type { MessageStore, QueuedMessage } from "../store/mod.ts";
import type { ClientSession } from "./client_session.ts";

/** How a queued message becomes a PUBLISH for this client. */
export type DeliveryEncoder = (queued: QueuedMessage) => { topic: string; payload: Uint8Array };

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
  const { store } = options;
  const endpoints: string[] = [];
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
      const endpoint = endpoints[cursor % endpoints.length]!;
      cursor++;
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
      // One write for the whole batch: a syscall per PUBLISH costs more than the PUBLISH.
      session.corked(() => {
        for (const queued of batch) {
          const { topic, payload } = options.encode(queued);
          writable = session.sendTracked(topic, payload, {
            acked() {
              store.ack(endpoint, queued.seq);
              options.onDelivered?.(endpoint);
              // Refill once half the window is free, not per PUBACK: a take per message costs
              // a query per message. Below that there is still plenty in flight.
              if (session.inflight() <= refillAt) schedule();
            },
            lost() {
              store.release(endpoint, [queued.seq]);
            },
          });
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

  return {
    addEndpoint(endpoint) {
      if (stopped || endpoints.includes(endpoint)) return;
      endpoints.push(endpoint);
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
