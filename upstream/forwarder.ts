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
import { publishSizeBytes, type TelemetryPublish, telemetryPublish } from "./telemetry_publish.ts";
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

/** A leased message waiting for its connection, with its PUBLISH (built once, at admission). */
interface Waiting {
  queued: QueuedMessage;
  publish: TelemetryPublish;
}

interface Lane {
  identity: IdentityRef;
  label: string;
  waiting: Waiting[];
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

/** The forwarder of one queue: leases per sender lane, in flight up to the window. */
class UpstreamForwarder implements Forwarder {
  readonly #options: ForwarderOptions;
  readonly #store: MessageStore;
  readonly #endpoint: string;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #poisonThreshold: number;
  readonly #lanes = new Map<string, Lane>();
  readonly #suspects = new Map<number, Suspect>();
  readonly #deadLettering = new Set<number>();
  readonly #stats = {
    forwarded: 0,
    expired: 0,
    deadLettered: { too_large: 0, rejected: 0 } as Record<DeadLetterReason, number>,
    deadLetterDropped: 0,
  };
  readonly #unsubscribe: () => void;
  #stopped = false;
  #scheduled = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bound once: the store's enqueue listener and the retry timer call it. */
  readonly #schedule = (): void => {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pump();
    });
  };

  constructor(options: ForwarderOptions) {
    this.#options = options;
    this.#store = options.store;
    this.#endpoint = options.endpoint;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#poisonThreshold = options.poisonThreshold ?? 5;
    this.#unsubscribe = options.store.onEnqueued(options.endpoint, this.#schedule);
    this.#schedule();
  }

  wake(): void {
    this.#schedule();
  }

  hasWork(identity: IdentityRef): boolean {
    const lane = this.#lanes.get(identityKey(identity));
    return lane !== undefined && (lane.waiting.length > 0 || lane.inflight.size > 0);
  }

  connectionDown(identity: IdentityRef): void {
    const lane = this.#lanes.get(identityKey(identity));
    if (!lane || lane.waiting.length === 0) return;
    const seqs = lane.waiting.splice(0).map((waiting) => waiting.queued.seq);
    this.#storeCall("release messages", () => this.#store.release(this.#endpoint, seqs));
  }

  stats(): ForwarderStats {
    let inflight = 0;
    for (const lane of this.#lanes.values()) inflight += lane.inflight.size;
    const stats = this.#stats;
    return {
      forwarded: stats.forwarded,
      expired: stats.expired,
      deadLettered: { ...stats.deadLettered },
      deadLetterDropped: stats.deadLetterDropped,
      inflight,
      leased: this.#leased(),
      suspects: this.#suspects.size,
    };
  }

  stop(): void {
    if (this.#stopped) return;
    const seqs: number[] = [];
    for (const lane of this.#lanes.values()) {
      seqs.push(...lane.waiting.splice(0).map((waiting) => waiting.queued.seq), ...lane.inflight);
      lane.inflight.clear();
    }
    this.#storeCall("release messages", () => this.#store.release(this.#endpoint, seqs));
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#unsubscribe();
  }

  #leased(): number {
    let count = this.#deadLettering.size;
    for (const lane of this.#lanes.values()) count += lane.waiting.length + lane.inflight.size;
    return count;
  }

  #laneOf(identity: IdentityRef): Lane {
    const key = identityKey(identity);
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = {
        identity,
        label: identityLabel(identity),
        waiting: [],
        inflight: new Set(),
        soloSeq: undefined,
        acked: 0,
      };
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  #expired(queued: QueuedMessage): boolean {
    return queued.expiresAtMs !== null && queued.expiresAtMs <= this.#now();
  }

  #storeCall(action: string, call: () => void): void {
    if (this.#stopped) return;
    try {
      call();
    } catch (error) {
      this.#logger.error(`cannot ${action} in the message store`, {
        endpoint: this.#endpoint,
        error,
      });
    }
  }

  #dropExpired(queued: QueuedMessage): void {
    this.#stats.expired++;
    this.#storeCall(
      "delete an expired message",
      () => this.#store.ack(this.#endpoint, queued.seq),
    );
  }

  #deadLetter(queued: QueuedMessage, reason: DeadLetterReason, detail: string): void {
    this.#deadLettering.add(queued.seq);
    this.#suspects.delete(queued.seq);
    const fields = {
      messageId: queued.message.systemProperties.messageId,
      seq: queued.seq,
      detail,
    };
    this.#store.enqueue(queued.message, [{
      endpoint: this.#options.deadLetterEndpoint,
      priority: queued.priority,
      ttlSeconds: this.#options.deadLetterTtlSeconds ?? 7 * 86400,
    }]).then(() => {
      this.#stats.deadLettered[reason]++;
      this.#logger.warn("message dead-lettered: the parent cannot take it", { reason, ...fields });
    }, (error) => {
      this.#stats.deadLetterDropped++;
      this.#logger.error(
        "message dropped: the parent cannot take it and the dead-letter queue refused it",
        { reason, ...fields, error },
      );
    }).finally(() => {
      this.#deadLettering.delete(queued.seq);
      this.#storeCall(
        "ack a dead-lettered message",
        () => this.#store.ack(this.#endpoint, queued.seq),
      );
      this.#schedule();
    });
  }

  #admit(queued: QueuedMessage): void {
    if (this.#expired(queued)) return this.#dropExpired(queued);
    const identity = senderIdentity(queued.message, this.#options.ownDeviceId);
    const publish = telemetryPublish(queued.message, identity);
    const size = publishSizeBytes(publish);
    const max = this.#options.maxMessageBytes;
    if (size > max) {
      return this.#deadLetter(
        queued,
        "too_large",
        `${size} bytes exceeds upstream.max_message_bytes (${max})`,
      );
    }
    const suspect = this.#suspects.get(queued.seq);
    if (suspect && suspect.soloFailures >= this.#poisonThreshold) {
      return this.#deadLetter(
        queued,
        "rejected",
        `the parent dropped the link on it ${suspect.soloFailures} times while it was sent alone`,
      );
    }
    // The topic names the lane's connection: its first sender's spelling (keys ignore case).
    const lane = this.#laneOf(identity);
    const same = lane.identity.deviceId === identity.deviceId &&
      lane.identity.moduleId === identity.moduleId;
    const lanePublish = same ? publish : telemetryPublish(queued.message, lane.identity);
    lane.waiting.push({ queued, publish: lanePublish });
  }

  #isDeferred(lane: Lane, seq: number): boolean {
    const suspect = this.#suspects.get(seq);
    return suspect !== undefined && suspect.soloFailures > 0 && suspect.ackMark === lane.acked;
  }

  #settle(lane: Lane, queued: QueuedMessage, error: unknown): void {
    lane.inflight.delete(queued.seq);
    const wasSolo = lane.soloSeq === queued.seq;
    if (wasSolo) lane.soloSeq = undefined;
    if (this.#stopped) return;
    if (error === undefined) {
      this.#suspects.delete(queued.seq);
      lane.acked++;
      this.#stats.forwarded++;
      this.#storeCall(
        "ack a forwarded message",
        () => this.#store.ack(this.#endpoint, queued.seq),
      );
    } else {
      let suspect = this.#suspects.get(queued.seq);
      if (!suspect) {
        suspect = { soloFailures: 0, ackMark: -1 };
        this.#suspects.set(queued.seq, suspect);
        if (this.#suspects.size > MAX_SUSPECTS) {
          this.#suspects.delete(this.#suspects.keys().next().value!);
        }
      }
      if (wasSolo && suspect.ackMark !== lane.acked) {
        suspect.soloFailures++;
        suspect.ackMark = lane.acked;
      }
      this.#storeCall("release a message", () => this.#store.release(this.#endpoint, [queued.seq]));
    }
    this.#schedule();
  }

  #send(lane: Lane, entry: PoolEntry, { queued, publish }: Waiting): void {
    lane.inflight.add(queued.seq);
    entry.connection.publish(publish.topic, publish.payload).then(
      () => this.#settle(lane, queued, undefined),
      (error) => this.#settle(lane, queued, error ?? new Error("publish failed")),
    );
  }

  #flush(lane: Lane): void {
    if (lane.waiting.length === 0) return;
    const entry = this.#options.connectionOf(lane.identity);
    while (lane.waiting.length > 0 && lane.soloSeq === undefined && entry.connection.connected) {
      let index = lane.waiting.findIndex((waiting) => !this.#isDeferred(lane, waiting.queued.seq));
      if (index < 0) index = 0;
      const waiting = lane.waiting[index]!;
      const queued = waiting.queued;
      if (this.#expired(queued)) {
        lane.waiting.splice(index, 1);
        this.#dropExpired(queued);
        continue;
      }
      if (this.#suspects.has(queued.seq)) {
        if (lane.inflight.size > 0) return;
        lane.soloSeq = queued.seq;
      }
      lane.waiting.splice(index, 1);
      this.#send(lane, entry, waiting);
    }
  }

  #pump(): void {
    if (this.#stopped) return;
    const window = this.#options.window;
    let held = this.#leased();
    // Refill at every free slot: each PUBACK is answered at once by a PUBLISH, which also carries
    // the TCP ACK the parent waits for. Refilling only in batches (at half the window) stalled on
    // the parent's Nagle + our delayed ACK: ~40 ms per window, ~2,000 messages/s.
    while (held < window) {
      let batch: QueuedMessage[];
      try {
        batch = this.#store.take(this.#endpoint, window - held);
      } catch (error) {
        this.#logger.error("cannot take from the upstream queue; retrying in 1 s", {
          endpoint: this.#endpoint,
          error,
        });
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(this.#schedule, 1000);
        break;
      }
      if (batch.length === 0) break;
      for (const queued of batch) this.#admit(queued);
      held += batch.length;
    }
    for (const lane of this.#lanes.values()) {
      try {
        this.#flush(lane);
      } catch (error) {
        this.#logger.error("cannot forward upstream", { identity: lane.label, error });
      }
    }
  }
}

/** Starts draining `options.endpoint`. */
export function startForwarder(options: ForwarderOptions): Forwarder {
  return new UpstreamForwarder(options);
}
