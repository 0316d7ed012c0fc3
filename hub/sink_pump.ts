/**
 * Drains endpoint queues into a {@linkcode DeliverySink} (an AMQP link, an HTTP poll): takes what
 * fits in both the sink's room (link credit) and the in-flight bound, hands each message over with
 * its settle handle, and on settle acks it in the store (complete, reject) or releases it back to
 * the queue (abandon); stopping releases every unsettled delivery (at-least-once; order per
 * endpoint by priority then arrival).
 */
import type { MessageStore, QueuedMessage } from "../store/mod.ts";
import type { Deliveries, DeliverySettle, DeliverySink } from "./head_port.ts";

/** Options of {@linkcode startSinkPump}. */
export interface SinkPumpOptions {
  store: MessageStore;
  /** Unsettled deliveries at most (`hub.max_inflight`). */
  maxInflight: number;
  /** Called per message the client took (ack) or refused (reject). */
  onSettled?: (endpoint: string, outcome: "ack" | "reject") => void;
  /** Called when taking from the store fails (closing, disk failure). */
  onError?: (error: unknown) => void;
}

/** A running pump. */
export interface SinkPump extends Deliveries {
  /** Adds an endpoint to drain (idempotent). */
  addEndpoint(endpoint: string): void;
}

/** Starts draining endpoints into `sink`. */
export function startSinkPump(sink: DeliverySink, options: SinkPumpOptions): SinkPump {
  const { store, maxInflight } = options;
  const endpoints: string[] = [];
  const unsubscribes: (() => void)[] = [];
  const unsettled = new Set<() => void>();
  const refillAt = Math.floor(maxInflight / 2);
  let scheduled = false;
  let stopped = false;
  let cursor = 0;

  function schedule(): void {
    if (scheduled || stopped) return;
    scheduled = true;
    queueMicrotask(run);
  }

  function settleHandle(endpoint: string, queued: QueuedMessage): DeliverySettle {
    let done = false;
    const release = () => finish(() => store.release(endpoint, [queued.seq]));
    function finish(action: () => void, outcome?: "ack" | "reject"): void {
      if (done) return;
      done = true;
      unsettled.delete(release);
      action();
      if (outcome) options.onSettled?.(endpoint, outcome);
      if (unsettled.size <= refillAt) schedule();
    }
    unsettled.add(release);
    return {
      ack: () => finish(() => store.ack(endpoint, queued.seq), "ack"),
      reject: () => finish(() => store.ack(endpoint, queued.seq), "reject"),
      release,
    };
  }

  function room(): number {
    return Math.min(sink.room(), maxInflight - unsettled.size);
  }

  function run(): void {
    scheduled = false;
    let idle = 0;
    while (!stopped && idle < endpoints.length) {
      const wanted = room();
      if (wanted <= 0) return;
      const endpoint = endpoints[cursor % endpoints.length]!;
      cursor++;
      let batch: QueuedMessage[];
      try {
        batch = store.take(endpoint, wanted);
      } catch (error) {
        options.onError?.(error);
        return;
      }
      // A short batch means the endpoint is drained for now (onEnqueued wakes the pump).
      idle = batch.length < wanted ? idle + 1 : 0;
      for (const queued of batch) {
        const settle = settleHandle(endpoint, queued);
        if (stopped) settle.release();
        else sink.deliver(queued, settle);
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
    inflight: () => unsettled.size,
    stop() {
      if (stopped) return;
      stopped = true;
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      for (const release of [...unsettled]) release();
    },
  };
}
