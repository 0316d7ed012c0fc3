/**
 * The sessions of the heads other than MQTT (AMQP, AMQP over WebSocket, HTTPS), kept by the hub
 * core: one per identity (a new one closes the older one), with desired-property listeners,
 * direct-method listeners and deliveries through {@linkcode startSinkPump}. The core consults it
 * where it consults its MQTT sessions (stats, desired pushes, method calls, route changes).
 */
import { identityKey, identityLabel, type Message, type TwinProperties } from "../iothub/mod.ts";
import type { Logger } from "../core/log.ts";
import type { MessageStore, QueuedMessage } from "../store/mod.ts";
import type {
  Deliveries,
  DeliverySettle,
  DeliverySink,
  HeadConnection,
  HeadPort,
  HeadSession,
  MethodCall,
} from "./head_port.ts";
import type { MethodCalls } from "./method_calls.ts";
import type { HubIdentity } from "./security_port.ts";
import { type SinkPump, startSinkPump } from "./sink_pump.ts";

/** What the head sessions use of the core. */
export interface HeadSessionsOptions {
  store: MessageStore;
  maxInflight: number;
  methods: MethodCalls;
  logger: Logger;
  /** Routes and stores a message (the core's ingest path, counters included). */
  ingest(identity: HubIdentity, message: Message): Promise<void>;
  /** The queues whose messages belong to an identity: its module inputs, or its C2D queue. */
  endpointsOf(identity: HubIdentity): string[];
  twin(key: string): { desired: TwinProperties; reported: TwinProperties };
  patchReported(identity: HubIdentity, patch: TwinProperties): Promise<number>;
  onDelivered(endpoint: string): void;
  /** A session started (true) or ended (false). */
  onPresence(identity: HubIdentity, connected: boolean): void;
}

/** Settles one taken message in the store; the first call wins. */
function settleOnce(
  store: MessageStore,
  endpoint: string,
  queued: QueuedMessage,
  onDelivered: (endpoint: string) => void,
): DeliverySettle {
  let done = false;
  const once = (action: () => void) => () => {
    if (done) return;
    done = true;
    action();
  };
  const remove = () => {
    store.ack(endpoint, queued.seq);
    onDelivered(endpoint);
  };
  return {
    ack: once(remove),
    reject: once(remove),
    release: once(() => store.release(endpoint, [queued.seq])),
  };
}

class Session implements HeadSession {
  readonly key: string;
  readonly desiredListeners = new Set<(patch: TwinProperties, version: number) => void>();
  readonly methodListeners = new Set<(call: MethodCall) => void>();
  readonly pumps = new Set<SinkPump>();
  ended = false;

  constructor(
    readonly identity: HubIdentity,
    readonly connection: HeadConnection,
    private readonly owner: HeadSessions,
  ) {
    this.key = identityKey(identity);
  }

  ingest(message: Message): Promise<void> {
    if (this.ended) return Promise.reject(new Error("Cannot ingest: the session ended"));
    return this.owner.options.ingest(this.identity, message);
  }

  twin() {
    return this.owner.options.twin(this.key);
  }

  patchReported(patch: TwinProperties): Promise<number> {
    return this.owner.options.patchReported(this.identity, patch);
  }

  onDesired(listener: (patch: TwinProperties, version: number) => void): () => void {
    this.desiredListeners.add(listener);
    return () => this.desiredListeners.delete(listener);
  }

  onMethodCall(listener: (call: MethodCall) => void): () => void {
    this.methodListeners.add(listener);
    return () => this.methodListeners.delete(listener);
  }

  settleMethod(rid: string, result: { status: number; payload: unknown }): boolean {
    return this.owner.options.methods.settle(this.key, rid, result);
  }

  deliver(sink: DeliverySink): Deliveries {
    const { options } = this.owner;
    const pump = startSinkPump(sink, {
      store: options.store,
      maxInflight: options.maxInflight,
      onSettled: (endpoint) => options.onDelivered(endpoint),
      onError: (error) => options.logger.error("cannot take from queue", { error }),
    });
    if (this.ended) {
      pump.stop();
      return pump;
    }
    for (const endpoint of options.endpointsOf(this.identity)) pump.addEndpoint(endpoint);
    this.pumps.add(pump);
    return {
      wake: () => pump.wake(),
      inflight: () => pump.inflight(),
      stop: () => {
        this.pumps.delete(pump);
        pump.stop();
      },
    };
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const pump of [...this.pumps]) pump.stop();
    this.desiredListeners.clear();
    this.methodListeners.clear();
    this.owner.forget(this);
  }
}

/** The head sessions of one hub core. */
export class HeadSessions implements HeadPort {
  readonly #sessions = new Map<string, Session>();

  constructor(readonly options: HeadSessionsOptions) {}

  openSession(identity: HubIdentity, connection: HeadConnection): HeadSession {
    const session = new Session(identity, connection, this);
    const previous = this.#sessions.get(session.key);
    this.#sessions.set(session.key, session);
    if (previous) {
      previous.end();
      previous.connection.close(`${identityLabel(identity)} connected again`);
    }
    this.options.onPresence(identity, true);
    return session;
  }

  ingest(identity: HubIdentity, message: Message): Promise<void> {
    return this.options.ingest(identity, message);
  }

  takeOne(identity: HubIdentity): { queued: QueuedMessage; settle: DeliverySettle } | undefined {
    const { store } = this.options;
    for (const endpoint of this.options.endpointsOf(identity)) {
      const [queued] = store.take(endpoint, 1);
      if (!queued) continue;
      return { queued, settle: settleOnce(store, endpoint, queued, this.options.onDelivered) };
    }
    return undefined;
  }

  /** Called by a session as it ends. */
  forget(session: Session): void {
    if (this.#sessions.get(session.key) !== session) return;
    this.#sessions.delete(session.key);
    this.options.methods.abandon(session.key);
    this.options.onPresence(session.identity, false);
  }

  /** Connected identities, as `device` or `device/module`. */
  clients(): string[] {
    return [...this.#sessions.values()].map((session) => identityLabel(session.identity));
  }

  has(key: string): boolean {
    return this.#sessions.has(key);
  }

  /** Pushes a desired patch to the session of `key`; false when nobody listens. */
  pushDesired(key: string, patch: TwinProperties, version: number): boolean {
    const listeners = this.#sessions.get(key)?.desiredListeners;
    if (!listeners || listeners.size === 0) return false;
    for (const listener of listeners) listener(patch, version);
    return true;
  }

  /** Whether the session of `key` takes direct method calls. */
  takesMethods(key: string): boolean {
    return (this.#sessions.get(key)?.methodListeners.size ?? 0) > 0;
  }

  /** Hands a method call to the session of `key`; false when it takes none. */
  callMethod(key: string, call: MethodCall): boolean {
    const listeners = this.#sessions.get(key)?.methodListeners;
    if (!listeners || listeners.size === 0) return false;
    // One link pair answers; with several, the newest one.
    [...listeners].at(-1)!(call);
    return true;
  }

  /** Routes changed: deliveries pick up endpoints that now belong to their identity. */
  refreshDeliveries(): void {
    for (const session of this.#sessions.values()) {
      const endpoints = this.options.endpointsOf(session.identity);
      for (const pump of session.pumps) {
        for (const endpoint of endpoints) pump.addEndpoint(endpoint);
      }
    }
  }

  /** Ends every session (the hub is stopping). */
  close(): void {
    for (const session of [...this.#sessions.values()]) {
      session.end();
      session.connection.close("the hub is stopping");
    }
  }
}
