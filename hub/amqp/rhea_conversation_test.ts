/**
 * tuneRhea() replaces rhea functions on the transfer path (decoder, incoming and outgoing
 * deliveries, tags, link events). Two rhea containers talk over an in-memory pipe, once with
 * rhea as shipped and once tuned: every byte each side wrote and every event each side saw
 * must be the same.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import rhea, { type Connection, type Delivery, type EventContext, type Receiver } from "rhea";
import rheaSession from "rhea/lib/session.js";
import { tuneRhea } from "./rhea_tuning.ts";

type Listener = (...args: unknown[]) => void;

/** One end of an in-memory socket pair, as rhea uses a socket. */
class PipeEnd {
  peer!: PipeEnd;
  readonly written: Uint8Array[] = [];
  readonly #listeners = new Map<string, Listener[]>();

  constructor(readonly name: string) {}

  on(event: string, listener: Listener): this {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return this;
  }

  removeAllListeners(event: string): this {
    this.#listeners.delete(event);
    return this;
  }

  emit(event: string, ...args: unknown[]): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(...args);
  }

  write(chunk: Uint8Array): boolean {
    const copy = Buffer.from(chunk);
    this.written.push(copy);
    queueMicrotask(() => this.peer.emit("data", copy));
    return true;
  }

  end(): void {
    queueMicrotask(() => this.peer.emit("end"));
  }

  destroy(): void {}

  get_id_string(): string {
    return this.name;
  }
}

const big = Buffer.alloc(2000, 0x5a);
const uuid = rhea.string_to_uuid("0f8fad5b-d9cb-469f-a165-70867728950e");

/** Messages covering the sections, property types and body kinds rhea decodes. */
function upMessages(): Record<string, unknown>[] {
  return [
    { body: "hello", message_id: "m-1", application_properties: { n: 21, on: true } },
    {
      message_id: uuid,
      correlation_id: 7,
      user_id: Buffer.from("edge"),
      to: "/devices/edge/modules/a/messages/events",
      subject: "s",
      reply_to: "r",
      content_type: "application/json",
      content_encoding: "utf-8",
      absolute_expiry_time: new Date("2030-01-02T03:04:05Z"),
      creation_time: new Date("2029-01-02T03:04:05Z"),
      group_id: "g",
      group_sequence: 3,
      durable: true,
      priority: 7,
      ttl: 60000,
      delivery_annotations: { "x-d": "v" },
      message_annotations: { "x-opt-input-name": "in1", "x-n": 5, "x-emoji": "🌡️" },
      application_properties: {
        text: "température",
        long: "x".repeat(300),
        int: -5,
        double: 2.5,
        big: 2 ** 40,
        nothing: null,
        when: new Date("2031-01-01T00:00:00Z"),
        bytes: Buffer.from([1, 2, 3]),
      },
      footer: { f: "1" },
      body: rhea.message.data_section(Buffer.from('{"t":21}')),
    },
    { body: rhea.message.data_section(big) },
    { body: rhea.message.data_sections([Buffer.from("a"), Buffer.from("bc")]) },
    { body: rhea.message.sequence_section([1, "two", [3]]) },
    { body: { nested: { list: [1, 2], flag: false } } },
    { body: rhea.message.data_section(Buffer.from("last")) },
  ];
}

function linkState(link: Receiver): string {
  // rhea's typings leave out a link's credit and delivery count.
  const { credit, delivery_count } = link as unknown as Record<string, number>;
  return `${link.name} credit ${credit} count ${delivery_count}`;
}

type Outcome = (delivery: Delivery) => void;
const OUTCOMES: Outcome[] = [
  (d) => d.accept(),
  (d) => d.reject({ condition: "amqp:precondition-failed", description: "no" }),
  (d) => d.release(),
  (d) => d.release({ delivery_failed: true }),
  (d) => (d as unknown as { modified(p: unknown): void }).modified({ undeliverable_here: true }),
  (d) => d.update(true),
  (d) => d.accept(),
];

function describeDelivery(delivery: Delivery): string {
  const d = delivery as unknown as Record<string, unknown>;
  return JSON.stringify({
    id: d.id,
    tag: Buffer.from(d.tag as Uint8Array).toString("hex"),
    format: d.format,
    settled: d.settled,
    state: d.state,
    remote_settled: d.remote_settled,
    remote_state: d.remote_state,
  });
}

/** Runs one conversation; returns what each side wrote and saw. */
async function converse(): Promise<{ bytes: string[]; events: string[] }> {
  const events: string[] = [];
  // rhea reports some of what it receives on the console: that is part of what it does.
  const consoleError = console.error;
  console.error = (...args: unknown[]) => events.push(`console.error ${args.join(" ")}`);
  try {
    return { bytes: await talk(events), events };
  } finally {
    console.error = consoleError;
  }
}

/** Client and server exchange messages, outcomes and a close; returns the bytes each wrote. */
async function talk(events: string[]): Promise<string[]> {
  const [clientEnd, serverEnd] = [new PipeEnd("client"), new PipeEnd("server")];
  clientEnd.peer = serverEnd;
  serverEnd.peer = clientEnd;
  const server = rhea.create_container({
    id: "server",
    receiver_options: { credit_window: 0, autoaccept: false },
  } as never);
  const client = rhea.create_container({ id: "client" });
  const expected = (upMessages().length + 1) * 2;
  let received = 0;
  const done = Promise.withResolvers<void>();
  const count = () => {
    if (++received === expected) done.resolve();
  };
  let up = 0;
  server.on("receiver_open", (ctx: EventContext) => ctx.receiver!.add_credit(upMessages().length));
  server.on("message", (ctx: EventContext) => {
    events.push(`server message ${linkState(ctx.receiver!)} ${JSON.stringify(ctx.message)}`);
    const delivery = ctx.delivery!;
    if (!delivery.remote_settled) OUTCOMES[up++ % OUTCOMES.length]!(delivery);
    events.push(`server delivery ${describeDelivery(delivery)}`);
    count();
  });
  server.on("sender_open", (ctx: EventContext) => {
    const sender = ctx.sender!;
    for (const message of upMessages()) sender.send(message as never);
    sender.send({ body: "tagged" } as never, Buffer.from("my-tag"));
  });
  client.on("message", (ctx: EventContext) => {
    events.push(`client message ${linkState(ctx.receiver!)} ${JSON.stringify(ctx.message)}`);
    OUTCOMES[received % OUTCOMES.length]!(ctx.delivery!);
    count();
  });
  for (const container of [server, client]) {
    for (const event of ["accepted", "rejected", "released", "modified", "settled"]) {
      container.on(event, (ctx: EventContext) => {
        events.push(`${container.id} ${event} ${describeDelivery(ctx.delivery!)}`);
      });
    }
  }
  const serverConnection = server.create_connection(
    { id: "server-conn", max_frame_size: 512 } as never,
  )
    .accept(serverEnd as never);
  const connection: Connection = client.connect({
    id: "client-conn",
    host: "pipe",
    port: 1,
    reconnect: false,
    max_frame_size: 512,
    connect: (_port: number, _host: string, _options: unknown, connected: () => void) => {
      queueMicrotask(connected);
      return clientEnd;
    },
  } as never);
  const upLink = connection.open_sender({ name: "up", target: { address: "in" } });
  // A link closed with an error, handled on the link: rhea must not report it to the container.
  upLink.on(
    "sender_error",
    (ctx: EventContext) => events.push(`client up error ${ctx.sender!.error}`),
  );
  client.on("error", (error: unknown) => events.push(`client unhandled ${error}`));
  const presettled = connection.open_sender({
    name: "up-presettled",
    target: { address: "in" },
    snd_settle_mode: 1,
  } as never);
  connection.open_receiver({
    name: "down",
    source: { address: "out" },
    autoaccept: false,
    credit_window: 5,
  } as never);
  const sender = connection.open_sender({ name: "up-2", target: { address: "in" } });
  sender.once("sendable", () => {
    for (const message of upMessages()) sender.send(message as never);
  });
  presettled.once("sendable", () => presettled.send({ body: "presettled" } as never));
  await done.promise;
  const upClosed = Promise.withResolvers<void>();
  upLink.once("sender_close", () => upClosed.resolve());
  serverConnection.find_receiver((link: { name: string }) => link.name === "up")!
    .close({ condition: "amqp:internal-error", description: "bye" });
  await upClosed.promise;
  const closed = Promise.withResolvers<void>();
  client.once("connection_close", () => closed.resolve());
  connection.close();
  await closed.promise;
  return [clientEnd, serverEnd].map((end) => Buffer.concat(end.written).toString("hex"));
}

const session = rheaSession as { prototype: Record<string, unknown> };
const untunedOnTransfer = session.prototype.on_transfer;
const untuned = await converse();

Deno.test("tuneRhea() leaves a rhea conversation byte for byte and event for event as it was", async () => {
  tuneRhea();
  // The replacements are installed: this test compares something.
  assert.notEqual(session.prototype.on_transfer, untunedOnTransfer);
  const tuned = await converse();
  assert.ok(untuned.events.length > 30, `only ${untuned.events.length} events`);
  assert.deepEqual(tuned.events, untuned.events);
  assert.equal(tuned.bytes[0], untuned.bytes[0], "the client's bytes changed");
  assert.equal(tuned.bytes[1], untuned.bytes[1], "the server's bytes changed");
});
