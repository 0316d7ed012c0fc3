/**
 * Leaner bodies for rhea's per-delivery session functions, installed by {@linkcode tuneRhea};
 * each does what rhea's own does, in the same order, with the same frames and events:
 *
 * - an incoming transfer (`Session.on_transfer`, i.e. rhea's `Incoming.on_transfer`) made each
 *   delivery an object literal with five closures (`update`, `accept`, `release`, `reject`,
 *   `modified`) and then `delete`d its frame list, which turns the object into a slow dictionary:
 *   a delivery is now an {@linkcode IncomingDelivery}, the methods on its prototype;
 * - an outgoing delivery (`Session.send`, i.e. `Outgoing.send`) got an `update` closure: it is an
 *   {@linkcode OutgoingDelivery} now;
 * - `Sender.next_tag` boxed its counter in a `String` object before `Buffer.from`;
 * - a link's `dispatch` (every delivery, outcome and settlement) asked `listeners(name).length`,
 *   which copies the listener array: it counts them (`listenerCount`).
 *
 * One visible difference: a completed incoming delivery's `frames` is `undefined` where rhea
 * deleted the key.
 */
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import rheaLog from "rhea/lib/log.js";

/** rhea's message module: the outcome constructors and the decoder. */
export interface RheaMessages {
  accepted(): Described;
  released(): Described;
  rejected(fields: { error: unknown }): Described;
  modified(fields: unknown): Described;
  decode(data: Uint8Array): unknown;
}

interface Described {
  described(): unknown;
}

interface CircularBuffer<T> {
  push(item: T): void;
}

interface Incoming {
  next_transfer_id: number;
  next_delivery_id: number | undefined;
  deliveries: CircularBuffer<IncomingDelivery>;
  update(delivery: IncomingDelivery, settled: boolean, state: unknown): void;
}

interface Outgoing {
  next_delivery_id: number;
  deliveries: CircularBuffer<OutgoingDelivery>;
  compute_max_payload(tag: Uint8Array): number | undefined;
  update(delivery: OutgoingDelivery, settled: boolean, state: unknown): void;
}

interface Transfer {
  delivery_id: number | null | undefined;
  delivery_tag: Uint8Array;
  message_format: number;
  settled: boolean | undefined;
  state: unknown;
  more: boolean;
}

interface Link extends EventEmitter {
  credit: number;
  delivery_count: number;
  tag: number;
  local: { attach: { rcv_settle_mode?: number } };
  observers: EventEmitter;
  _incomplete: IncomingDelivery | undefined;
  is_remote_open(): boolean;
  _context(context: object): object;
  dispatch(name: string, ...args: unknown[]): boolean;
  session: { dispatch(name: string, ...args: unknown[]): boolean };
  connection: { options: { id: string } };
}

/** The parts of rhea's Session this file replaces or calls. */
export interface RheaSession {
  incoming: Incoming;
  outgoing: Outgoing;
  connection: { _register(): void; dispatch(name: string, ...args: unknown[]): boolean };
  _get_link(frame: unknown): Link;
  on_transfer(frame: { performative: Transfer; payload?: Uint8Array }): void;
  send(sender: Link, tag: Uint8Array, data: Uint8Array, format?: number): OutgoingDelivery;
  dispatch(name: string, ...args: unknown[]): boolean;
}

let messages: RheaMessages;

/** A delivery received on a link, as rhea's `Incoming.on_transfer` builds it. */
export class IncomingDelivery {
  id: number;
  tag: Uint8Array;
  format: number;
  link: Link;
  settled = false;
  state: unknown = undefined;
  remote_settled: boolean;
  remote_state: unknown;
  frames: Uint8Array[] | undefined;
  incomplete: boolean | undefined = undefined;
  readonly _incoming: Incoming;

  constructor(incoming: Incoming, link: Link, transfer: Transfer, payload: Uint8Array | undefined) {
    this.id = transfer.delivery_id as number;
    this.tag = transfer.delivery_tag;
    this.format = transfer.message_format;
    this.link = link;
    const settled = transfer.settled;
    this.remote_settled = settled === undefined ? false : settled;
    this.remote_state = transfer.state;
    this.frames = [payload as Uint8Array];
    this._incoming = incoming;
  }

  update(settled: boolean | undefined, state: unknown): void {
    const settledOrDefault = settled === undefined
      ? this.link.local.attach.rcv_settle_mode !== 1
      : settled;
    this._incoming.update(this, settledOrDefault, state);
  }

  accept(): void {
    this.update(undefined, messages.accepted().described());
  }

  release(params?: unknown): void {
    if (params) this.update(undefined, messages.modified(params).described());
    else this.update(undefined, messages.released().described());
  }

  reject(error: unknown): void {
    this.update(undefined, messages.rejected({ error }).described());
  }

  modified(params: unknown): void {
    this.update(undefined, messages.modified(params).described());
  }
}

/** A delivery sent on a link, as rhea's `Outgoing.send` builds it. */
export class OutgoingDelivery {
  next_to_send = 0;
  sent = false;
  settled = false;
  state: unknown = undefined;
  remote_settled = false;
  remote_state: unknown = undefined;

  constructor(
    readonly _outgoing: Outgoing,
    readonly id: number,
    readonly tag: Uint8Array,
    readonly link: Link,
    readonly data: Uint8Array[],
    readonly format: number,
  ) {}

  update(settled: boolean, state: unknown): void {
    this._outgoing.update(this, settled, state);
  }
}

/** rhea's `Incoming.on_transfer`, each performative field read once. */
function onTransfer(
  incoming: Incoming,
  frame: { performative: Transfer; payload?: Uint8Array },
  receiver: Link,
): void {
  incoming.next_transfer_id++;
  if (!receiver.is_remote_open()) throw Error("transfer after detach");
  const transfer = frame.performative;
  const deliveryId = transfer.delivery_id;
  if (incoming.next_delivery_id === undefined) incoming.next_delivery_id = deliveryId as number;
  let current: IncomingDelivery;
  if (receiver._incomplete) {
    current = receiver._incomplete;
    if (deliveryId !== undefined && deliveryId !== null && current.id !== deliveryId) {
      throw Error(`frame sequence error: delivery ${current.id} not complete, got ${deliveryId}`);
    }
    if (frame.payload) current.frames!.push(frame.payload);
  } else if (incoming.next_delivery_id === deliveryId) {
    current = new IncomingDelivery(incoming, receiver, transfer, frame.payload);
    incoming.deliveries.push(current);
    incoming.next_delivery_id++;
  } else {
    throw Error(`frame sequence error: expected ${incoming.next_delivery_id}, got ${deliveryId}`);
  }
  current.incomplete = transfer.more;
  if (current.incomplete) {
    receiver._incomplete = current;
    return;
  }
  receiver._incomplete = undefined;
  const parts = current.frames!;
  const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  current.frames = undefined;
  if (receiver.credit > 0) receiver.credit--;
  else console.error("Received transfer when credit was %d", receiver.credit);
  receiver.delivery_count++;
  const context = current.format === 0
    ? { message: messages.decode(data), delivery: current }
    : { message: data, delivery: current, format: current.format };
  receiver.dispatch("message", receiver._context(context));
}

/** rhea's `Outgoing.send`: the payload split to fit the peer's frames, queued as a delivery. */
function send(
  outgoing: Outgoing,
  sender: Link,
  tag: Uint8Array,
  data: Uint8Array,
  format?: number,
) {
  const fragments: Uint8Array[] = [];
  const maxPayload = outgoing.compute_max_payload(tag);
  if (maxPayload && data.length > maxPayload) {
    for (let start = 0; start < data.length; start += maxPayload) {
      fragments.push(data.slice(start, Math.min(start + maxPayload, data.length)));
    }
  } else {
    fragments.push(data);
  }
  const delivery = new OutgoingDelivery(
    outgoing,
    outgoing.next_delivery_id++,
    tag,
    sender,
    fragments,
    format ? format : 0,
  );
  outgoing.deliveries.push(delivery);
  return delivery;
}

/** rhea's link `dispatch`, counting the link's listeners instead of copying them. */
function linkDispatch(this: Link, name: string): boolean {
  rheaLog.events("[%s] Link got event: %s", this.connection.options.id, name);
  EventEmitter.prototype.emit.apply(this.observers, arguments as never);
  if (this.listenerCount(name)) {
    EventEmitter.prototype.emit.apply(this, arguments as never);
    return true;
  }
  return this.session.dispatch.apply(this.session, arguments as never);
}

/** Installs the lean delivery functions on rhea's prototypes. */
export function tuneDeliveries(
  rheaMessages: RheaMessages,
  session: { prototype: RheaSession },
  sender: { prototype: { tag: number; next_tag(): Uint8Array } },
): void {
  Object.getPrototypeOf(sender.prototype).dispatch = linkDispatch;
  messages = rheaMessages;
  session.prototype.on_transfer = function (this: RheaSession, frame) {
    onTransfer(this.incoming, frame, this._get_link(frame));
  };
  session.prototype.send = function (this: RheaSession, link, tag, data, format) {
    const delivery = send(this.outgoing, link, tag, data, format);
    this.connection._register();
    return delivery;
  };
  sender.prototype.next_tag = function (this: { tag: number }) {
    return Buffer.from(String(this.tag++));
  };
}
