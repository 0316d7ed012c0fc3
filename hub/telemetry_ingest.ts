/**
 * The hub's ingest path: telemetry routed into its durable queues, with the counters. It runs
 * per message, so what is the same from one message to the next is worked out once: per MQTT
 * session its label and its {@linkcode TelemetryStamper} (the parsed property bag), per route
 * table the queue targets of each route, per source the routes that apply (in the table). All
 * messages of one group commit share the store's promise, and the counters of a group are
 * added up once it is durable.
 */
import type { Logger } from "../core/log.ts";
import {
  identityKey,
  identityLabel,
  type Message,
  MessageTooLargeError,
  TelemetryStamper,
} from "../iothub/mod.ts";
import type { RouteMatch, RouteTable } from "../routing/mod.ts";
import type { EnqueueTarget, MessageStore, StoreFullError } from "../store/mod.ts";
import type { ClientSession } from "./client_session.ts";
import type { InboundPublish } from "./mqtt/mqtt_packets.ts";
import type { HubIdentity } from "./security_port.ts";
import type { TooLargeRefusals } from "./too_large_refusals.ts";

/** The counters the ingest path keeps (part of the hub's stats). */
export interface IngestCounters {
  received: Record<string, number>;
  routed: Record<string, number>;
  /**
   * Messages routed, by the name of the route that won each endpoint (a message two routes send
   * to one endpoint counts once, for the route whose priority won).
   */
  routedByRoute: Record<string, number>;
  unrouted: number;
  refusedFull: number;
  /** Of `refusedFull`, those refused because the store's disk was down to its free-space floor. */
  refusedDiskFull: number;
  tooLarge: number;
  /** Of `tooLarge`, messages acknowledged and dropped after being refused again and again. */
  tooLargeDeadLettered: number;
}

/** What {@linkcode TelemetryIngest} needs of the hub. */
export interface IngestOptions {
  store: MessageStore;
  logger: Logger;
  counters: IngestCounters;
  tooLargeRefusals: TooLargeRefusals;
  maxMessageBytes: number;
  /** The route table in force (read per message: a deployment replaces it). */
  table(): RouteTable;
  /** A route's TTL (0: the default) as the queue's TTL in seconds. */
  ttlSeconds(routeTtlSeconds: number): number;
}

/** One MQTT session's sending side. */
interface Sender {
  label: string;
  stamper: TelemetryStamper;
}

/** Counters of one group commit, added to the totals once it is durable. */
class PendingCounts {
  readonly received = new Map<string, number>();
  /** Messages per answer of the route table (mostly its shared ones, so a few entries). */
  readonly routes = new Map<readonly RouteMatch[], number>();
  messages = 0;

  constructor(readonly firstSender: string) {}
}

function count(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** Routes telemetry into the store. */
export class TelemetryIngest {
  readonly #senders = new WeakMap<ClientSession, Sender>();
  // The label of an AMQP or HTTPS sender's identity (one object per session), built once.
  readonly #labels = new WeakMap<HubIdentity, string>();
  #table: RouteTable | undefined;
  #targets = new Map<RouteMatch, EnqueueTarget>();
  // The targets of the table's shared (frozen) answers: one per source and outcome of its WHERE.
  #targetsOfAnswer = new WeakMap<readonly RouteMatch[], EnqueueTarget[]>();
  #pending: PendingCounts | undefined;
  #pendingPromise: Promise<void> | undefined;

  constructor(private readonly o: IngestOptions) {}

  /**
   * A telemetry PUBLISH of an MQTT session with property bag `bag`: resolves once it is durable
   * in every queue its routes chose (undefined: nothing to wait for).
   */
  publish(session: ClientSession, packet: InboundPublish, bag: string): Promise<void> | undefined {
    let sender = this.#senders.get(session);
    if (sender === undefined) {
      sender = {
        label: identityLabel(session.identity),
        stamper: new TelemetryStamper(
          { ...session.identity, authMethod: undefined },
          this.o.maxMessageBytes,
        ),
      };
      this.#senders.set(session, sender);
    }
    // The store keeps the body: a payload in the connection's read buffer is copied (by the
    // constructor, which copies into memory it does not zero first, as slice() does).
    const body = packet.detached ? packet.payload : new Uint8Array(packet.payload);
    let message: Message;
    try {
      message = sender.stamper.message(body, bag);
    } catch (error) {
      if (!(error instanceof MessageTooLargeError)) {
        this.o.logger.warn("message refused", {
          client: sender.label,
          error: (error as Error).message,
        });
        throw error;
      }
      if (this.refuseTooLarge(session.identity, bag, body, error)) throw error;
      return undefined;
    }
    return this.#route(sender.label, message, sender.stamper.source);
  }

  /** Routes a message of another head (AMQP, HTTPS); resolves once it is durable. */
  ingest(sender: HubIdentity, message: Message): Promise<void> {
    let label = this.#labels.get(sender);
    if (label === undefined) {
      label = identityLabel(sender);
      this.#labels.set(sender, label);
    }
    return this.#route(label, message) ?? Promise.resolve();
  }

  /**
   * Counts a too-large refusal; true to refuse (no PUBACK), false when the same message came back
   * too often: it is acknowledged and dead-lettered, so the sender is not stuck behind it.
   */
  refuseTooLarge(sender: HubIdentity, bag: string, payload: Uint8Array, error: Error): boolean {
    const { counters, logger } = this.o;
    counters.tooLarge++;
    const verdict = this.o.tooLargeRefusals.refuse(identityKey(sender), bag, payload);
    const client = identityLabel(sender);
    if (!verdict.deadLetter) {
      if (verdict.refusal === 1) logger.warn("message refused", { client, error: error.message });
      return true;
    }
    counters.tooLargeDeadLettered++;
    logger.warn("message acknowledged and dead-lettered: refused as too large, sent again", {
      client,
      refusals: verdict.refusal,
      bytes: payload.byteLength,
    });
    return false;
  }

  #route(label: string, message: Message, source?: string): Promise<void> | undefined {
    const matches = this.#routeTable().match(message, source);
    if (matches.length === 0) {
      count(this.o.counters.received, label);
      this.o.counters.unrouted++;
      return undefined;
    }
    const durable = this.o.store.enqueue(message, this.#targetsOf(matches));
    let pending = this.#pending;
    if (pending === undefined || durable !== this.#pendingPromise) {
      pending = new PendingCounts(label);
      this.#pending = pending;
      this.#pendingPromise = durable;
      const counts = pending;
      durable.then(() => this.#settled(counts), (error) => this.#refused(counts, error));
    }
    pending.received.set(label, (pending.received.get(label) ?? 0) + 1);
    pending.routes.set(matches, (pending.routes.get(matches) ?? 0) + 1);
    pending.messages++;
    return durable;
  }

  #routeTable(): RouteTable {
    const table = this.o.table();
    if (table !== this.#table) {
      // A new deployment: its routes, TTLs and priorities.
      this.#table = table;
      this.#targets = new Map();
      this.#targetsOfAnswer = new WeakMap();
    }
    return table;
  }

  /** The store targets of `matches` (the same array again for the same matches). */
  #targetsOf(matches: readonly RouteMatch[]): EnqueueTarget[] {
    const known = this.#targetsOfAnswer.get(matches);
    if (known !== undefined) return known;
    const targets: EnqueueTarget[] = [];
    for (const match of matches) {
      let target = this.#targets.get(match);
      if (target === undefined) {
        target = {
          endpoint: match.endpointKey,
          priority: match.priority,
          ttlSeconds: this.o.ttlSeconds(match.timeToLiveSecs),
        };
        this.#targets.set(match, target);
      }
      targets.push(target);
    }
    // The table's shared answer: the same targets every time.
    if (Object.isFrozen(matches)) this.#targetsOfAnswer.set(matches, targets);
    return targets;
  }

  #close(counts: PendingCounts): void {
    if (this.#pending === counts) {
      this.#pending = undefined;
      this.#pendingPromise = undefined;
    }
  }

  #settled(counts: PendingCounts): void {
    this.#close(counts);
    const { received, routed, routedByRoute } = this.o.counters;
    for (const [label, n] of counts.received) count(received, label, n);
    for (const [matches, messages] of counts.routes) {
      for (const match of matches) {
        count(routed, match.endpointKey, messages);
        count(routedByRoute, match.routeName, messages);
      }
    }
  }

  #refused(counts: PendingCounts, error: unknown): void {
    this.#close(counts);
    const { counters } = this.o;
    for (const [label, n] of counts.received) count(counters.received, label, n);
    if ((error as Error).name === "StoreFullError") {
      // The store logs a full queue or disk once per episode, with what to do.
      counters.refusedFull += counts.messages;
      if ((error as StoreFullError).reason === "disk") counters.refusedDiskFull += counts.messages;
      return;
    }
    this.o.logger.warn("message refused", {
      client: counts.firstSender,
      messages: counts.messages,
      error: (error as Error).message,
    });
  }
}
