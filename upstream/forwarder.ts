/**
 * Drains the `$upstream` queue to the parent: leases messages in priority order, forwards each
 * as its sender's identity with many in flight at once, acks each in the store only after the
 * parent's PUBACK, and releases the rest when a link drops (so they are sent again: duplicates
 * are possible, loss is not).
 *
 * A message the parent can never take is dead-lettered into its own queue and counted, never
 * retried forever: one larger than the parent's limit at once; one the parent drops the link on
 * (an MQTT 3.1.1 parent cannot say "no" any other way) after it was sent alone, with nothing
 * else in flight, `poisonThreshold` times, each time after the parent had acknowledged another
 * message on that identity since its previous failure. The last rule keeps a parent that refuses
 * everything (its queue full, a restart) from dead-lettering healthy messages.
 */
import type { Logger } from "../core/log.ts";
import type { MessageStore, QueuedMessage } from "../store/mod.ts";
import type { PoolEntry } from "./connection_pool.ts";
import { publishSizeBytes, telemetryPublish } from "./telemetry_publish.ts";
import { identityKey, identityLabel, type IdentityRef } from "../iothub/mod.ts";
import { senderIdentity } from "./upstream_identity.ts";

/** Why a message was dead-lettered. */
export type DeadLetterReason = "too_large" | "rejected";

/** Counters of the forwarder. */
export interface ForwarderStats {
  /** Messages the parent acknowledged. */
  forwarded: number;
  /** Messages that expired while leased, waiting for a connection. */
  expired: number;
  /** Messages moved to the dead-letter queue, by reason. */
  deadLettered: Record<DeadLetterReason, number>;
  /** Dead letters the dead-letter queue refused (full): dropped, and logged. */
  deadLetterDropped: number;
  /** Messages awaiting the parent's PUBACK. */
  inflight: number;
  /** Messages leased from the store (in flight or waiting for their connection). */
  leased: number;
  /** Messages sent alone because a link dropped while they were in flight. */
  suspects: number;
}

/** Options of {@linkcode startForwarder}. */
export interface ForwarderOptions {
  store: MessageStore;
  /** The queue drained: `$upstream`. */
  endpoint: string;
  /** The queue dead letters go to. */
  deadLetterEndpoint: string;
  /** Entry of an identity's connection (opening it when needed). */
  connectionOf: (identity: IdentityRef) => PoolEntry;
  ownDeviceId: string;
  /** Most messages leased at once, in flight or waiting for their connection. */
  window: number;
  /** Largest message (body plus bag) the parent accepts. */
  maxMessageBytes: number;
  logger: Logger;
  /** Drops of the link on one message sent alone before it is dead-lettered (default 5). */
  poisonThreshold?: number;
  /** TTL of dead letters (default 7 days). */
  deadLetterTtlSeconds?: number;
  now?: () => number;
}

/** A running forwarder. */
export interface Forwarder {
  /** Looks for work now (a connection came up). */
  wake(): void;
  /** Whether messages of `identity` are leased (waiting or in flight). */
  hasWork(identity: IdentityRef): boolean;
  /** A connection went down: its waiting messages go back to the queue, in order. */
  connectionDown(identity: IdentityRef): void;
  stats(): ForwarderStats;
  /** Stops and releases every lease. */
  stop(): void;
}

interface Lane {
  identity: IdentityRef;
  label: string;
  waiting: QueuedMessage[];
  inflight: Set<number>;
  /** A suspect sent alone; nothing else is sent on the lane until it settles. */
  soloSeq: number | undefined;
  /** Acks on this lane so far; the evidence that the parent takes other messages. */
  acked: number;
}

interface Suspect {
  /** Counted failures while sent alone. */
  soloFailures: number;
  /** `lane.acked` at the last counted failure (-1 before any). */
  ackMark: number;
}

const MAX_SUSPECTS = 10_000;

/** Starts draining `options.endpoint`. */
export function startForwarder(options: ForwarderOptions): Forwarder {
  const { store, endpoint, logger } = options;
  const now = options.now ?? Date.now;
  const poisonThreshold = options.poisonThreshold ?? 5;
  const lanes = new Map<string, Lane>();
  const suspects = new Map<number, Suspect>();
  const deadLettering = new Set<number>();
  const stats = {
    forwarded: 0,
    expired: 0,
    deadLettered: { too_large: 0, rejected: 0 } as Record<DeadLetterReason, number>,
    deadLetterDropped: 0,
  };
  let stopped = false;
  let scheduled = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const unsubscribe = store.onEnqueued(endpoint, schedule);

  function leased(): number {
    let count = deadLettering.size;
    for (const lane of lanes.values()) count += lane.waiting.length + lane.inflight.size;
    return count;
  }

  function schedule(): void {
    if (scheduled || stopped) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      pump();
    });
  }

  function laneOf(identity: IdentityRef): Lane {
    const key = identityKey(identity);
    let lane = lanes.get(key);
    if (!lane) {
      lane = {
        identity,
        label: identityLabel(identity),
        waiting: [],
        inflight: new Set(),
        soloSeq: undefined,
        acked: 0,
      };
      lanes.set(key, lane);
    }
    return lane;
  }

  function expired(queued: QueuedMessage): boolean {
    return queued.expiresAtMs !== null && queued.expiresAtMs <= now();
  }

  function storeCall(action: string, call: () => void): void {
    if (stopped) return;
    try {
      call();
    } catch (error) {
      logger.error(`cannot ${action} in the message store`, { endpoint, error });
    }
  }

  function dropExpired(queued: QueuedMessage): void {
    stats.expired++;
    storeCall("delete an expired message", () => store.ack(endpoint, [queued.seq]));
  }

  function deadLetter(queued: QueuedMessage, reason: DeadLetterReason, detail: string): void {
    deadLettering.add(queued.seq);
    suspects.delete(queued.seq);
    const fields = {
      messageId: queued.message.systemProperties.messageId,
      seq: queued.seq,
      detail,
    };
    store.enqueue(queued.message, [{
      endpoint: options.deadLetterEndpoint,
      priority: queued.priority,
      ttlSeconds: options.deadLetterTtlSeconds ?? 7 * 86400,
    }]).then(() => {
      stats.deadLettered[reason]++;
      logger.warn("message dead-lettered: the parent cannot take it", { reason, ...fields });
    }, (error) => {
      stats.deadLetterDropped++;
      logger.error(
        "message dropped: the parent cannot take it and the dead-letter queue refused it",
        {
          reason,
          ...fields,
          error,
        },
      );
    }).finally(() => {
      deadLettering.delete(queued.seq);
      storeCall("ack a dead-lettered message", () => store.ack(endpoint, [queued.seq]));
      schedule();
    });
  }

  function admit(queued: QueuedMessage): void {
    if (expired(queued)) return dropExpired(queued);
    const identity = senderIdentity(queued.message, options.ownDeviceId);
    const size = publishSizeBytes(telemetryPublish(queued.message, identity));
    if (size > options.maxMessageBytes) {
      return deadLetter(
        queued,
        "too_large",
        `${size} bytes exceeds upstream.max_message_bytes (${options.maxMessageBytes})`,
      );
    }
    const suspect = suspects.get(queued.seq);
    if (suspect && suspect.soloFailures >= poisonThreshold) {
      return deadLetter(
        queued,
        "rejected",
        `the parent dropped the link on it ${suspect.soloFailures} times while it was sent alone`,
      );
    }
    laneOf(identity).waiting.push(queued);
  }

  function isDeferred(lane: Lane, seq: number): boolean {
    const suspect = suspects.get(seq);
    return suspect !== undefined && suspect.soloFailures > 0 && suspect.ackMark === lane.acked;
  }

  function settle(lane: Lane, queued: QueuedMessage, error: unknown): void {
    lane.inflight.delete(queued.seq);
    const wasSolo = lane.soloSeq === queued.seq;
    if (wasSolo) lane.soloSeq = undefined;
    if (stopped) return;
    if (error === undefined) {
      suspects.delete(queued.seq);
      lane.acked++;
      stats.forwarded++;
      storeCall("ack a forwarded message", () => store.ack(endpoint, [queued.seq]));
    } else {
      let suspect = suspects.get(queued.seq);
      if (!suspect) {
        suspect = { soloFailures: 0, ackMark: -1 };
        suspects.set(queued.seq, suspect);
        if (suspects.size > MAX_SUSPECTS) suspects.delete(suspects.keys().next().value!);
      }
      if (wasSolo && suspect.ackMark !== lane.acked) {
        suspect.soloFailures++;
        suspect.ackMark = lane.acked;
      }
      storeCall("release a message", () => store.release(endpoint, [queued.seq]));
    }
    schedule();
  }

  function send(lane: Lane, entry: PoolEntry, queued: QueuedMessage): void {
    lane.inflight.add(queued.seq);
    const { topic, payload } = telemetryPublish(queued.message, lane.identity);
    entry.connection.publish(topic, payload).then(
      () => settle(lane, queued, undefined),
      (error) => settle(lane, queued, error ?? new Error("publish failed")),
    );
  }

  function flush(lane: Lane): void {
    if (lane.waiting.length === 0) return;
    const entry = options.connectionOf(lane.identity);
    while (lane.waiting.length > 0 && lane.soloSeq === undefined && entry.connection.connected) {
      let index = lane.waiting.findIndex((queued) => !isDeferred(lane, queued.seq));
      if (index < 0) index = 0;
      const queued = lane.waiting[index]!;
      if (expired(queued)) {
        lane.waiting.splice(index, 1);
        dropExpired(queued);
        continue;
      }
      if (suspects.has(queued.seq)) {
        if (lane.inflight.size > 0) return;
        lane.soloSeq = queued.seq;
      }
      lane.waiting.splice(index, 1);
      send(lane, entry, queued);
    }
  }

  function pump(): void {
    if (stopped) return;
    let held = leased();
    // Refill at every free slot: each PUBACK is answered at once by a PUBLISH, which also carries
    // the TCP ACK the parent waits for. Refilling only in batches (at half the window) stalled on
    // the parent's Nagle + our delayed ACK: ~40 ms per window, ~2,000 messages/s.
    if (held < options.window) {
      while (held < options.window) {
        let batch: QueuedMessage[];
        try {
          batch = store.take(endpoint, options.window - held);
        } catch (error) {
          logger.error("cannot take from the upstream queue; retrying in 1 s", { endpoint, error });
          clearTimeout(retryTimer);
          retryTimer = setTimeout(schedule, 1000);
          break;
        }
        if (batch.length === 0) break;
        for (const queued of batch) admit(queued);
        held += batch.length;
      }
    }
    for (const lane of lanes.values()) {
      try {
        flush(lane);
      } catch (error) {
        logger.error("cannot forward upstream", { identity: lane.label, error });
      }
    }
  }

  schedule();

  return {
    wake: schedule,
    hasWork(identity) {
      const lane = lanes.get(identityKey(identity));
      return lane !== undefined && (lane.waiting.length > 0 || lane.inflight.size > 0);
    },
    connectionDown(identity) {
      const lane = lanes.get(identityKey(identity));
      if (!lane || lane.waiting.length === 0) return;
      const seqs = lane.waiting.splice(0).map((queued) => queued.seq);
      storeCall("release messages", () => store.release(endpoint, seqs));
    },
    stats() {
      let inflight = 0;
      for (const lane of lanes.values()) inflight += lane.inflight.size;
      return {
        forwarded: stats.forwarded,
        expired: stats.expired,
        deadLettered: { ...stats.deadLettered },
        deadLetterDropped: stats.deadLetterDropped,
        inflight,
        leased: leased(),
        suspects: suspects.size,
      };
    },
    stop() {
      if (stopped) return;
      const seqs: number[] = [];
      for (const lane of lanes.values()) {
        seqs.push(...lane.waiting.splice(0).map((queued) => queued.seq), ...lane.inflight);
        lane.inflight.clear();
      }
      storeCall("release messages", () => store.release(endpoint, seqs));
      stopped = true;
      clearTimeout(retryTimer);
      unsubscribe();
    },
  };
}
