/**
 * The broker benchmark's AMQP load generator, the counterpart of {@linkcode ./_broker_load.ts}
 * with rhea as the client: reads an {@linkcode AmqpLoadPlan} as the first line of stdin, connects
 * each module over AMQP/TLS with a CBS put-token (a receiver's input link, a sender's events
 * link), prints `{"event":"ready"}`, waits for `go`, then each sender sends numbered transfers
 * through a window of unsettled ones to its receiver and prints `{"event":"done", …}`.
 *
 * Its rhea gets the hub's tuning ({@linkcode tuneRhea}: no zero-filled buffer per frame, no
 * debug argument arrays) and, like the hub, writes the frames of one turn in one TLS write
 * ({@linkcode CoalescedSocket}; rhea writes each frame on its own): the load processes share the
 * machine's cores with the hub, and the MQTT rows' generator spends less per message than
 * untuned rhea did.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import rhea, { type Connection, type EventContext, type Receiver, type Sender } from "rhea";
import { type LoadResult, runGenerator } from "./_broker_load.ts";
import { tuneRhea } from "../hub/amqp/rhea_tuning.ts";
import { CoalescedSocket } from "../hub/amqp/coalesced_socket.ts";
import tls from "node:tls";

/** One module's AMQP identity. */
export interface AmqpModuleSpec {
  /** `host/devices/d/modules/m`, the CBS audience. */
  audience: string;
  token: string;
  /** Link address of its events (sender) or inputs (receiver). */
  address: string;
}

/** What one AMQP generator process does. */
export interface AmqpLoadPlan {
  port: number;
  caPem: string;
  pairs: { sender: AmqpModuleSpec; receiver: AmqpModuleSpec }[];
  messages: number;
  window: number;
  payloadBytes: number;
  drainTimeoutMs: number;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

function open(plan: AmqpLoadPlan, spec: AmqpModuleSpec): Promise<Connection> {
  const container = rhea.create_container();
  const connection = container.connect({
    connect: (port: number, host: string, options: tls.ConnectionOptions, done: () => void) =>
      new CoalescedSocket(tls.connect(port, host, options, done), `${host}:${port}`),
    host: "localhost",
    servername: "localhost",
    port: plan.port,
    ca: plan.caPem,
    reconnect: false,
  } as never);
  return new Promise((resolve, reject) => {
    container.on("disconnected", () => reject(new Error(`${spec.audience}: disconnected`)));
    container.once("connection_open", () => {
      const cbsSender = connection.open_sender("$cbs");
      const cbsReceiver = connection.open_receiver("$cbs");
      cbsReceiver.once("message", (ctx: EventContext) => {
        const status = ctx.message?.application_properties?.["status-code"];
        if (status === 200) resolve(connection);
        else reject(new Error(`${spec.audience}: put-token answered ${status}`));
      });
      cbsSender.once("sendable", () => {
        cbsSender.send({
          to: "$cbs",
          reply_to: "cbs",
          message_id: crypto.randomUUID(),
          application_properties: {
            operation: "put-token",
            type: "servicebus.windows.net:sastoken",
            name: spec.audience,
          },
          body: spec.token,
        });
      });
    });
  });
}

function attach<T extends Sender | Receiver>(link: T, event: string): Promise<T> {
  return new Promise((resolve, reject) => {
    link.once(event, () => resolve(link));
    link.once(
      link.is_sender() ? "sender_close" : "receiver_close",
      () => reject(new Error(`the hub refused ${link.name}`)),
    );
  });
}

function payload(size: number, sentAt: number, n: number): Buffer {
  const bytes = Buffer.alloc(Math.max(size, 16), 0x61);
  bytes.writeDoubleLE(sentAt, 0);
  bytes.writeUInt32LE(n, 8);
  return bytes;
}

/** Sends `plan.messages` transfers with at most `plan.window` unsettled. */
function send(plan: AmqpLoadPlan, sender: Sender): Promise<number> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let unsettled = 0;
    let done = 0;
    const pump = () => {
      while (unsettled < plan.window && next < plan.messages && sender.sendable()) {
        const n = next++;
        unsettled++;
        sender.send({
          body: rhea.message.data_section(payload(plan.payloadBytes, now(), n)),
          application_properties: { "iothub-outputname": "out" },
        });
      }
    };
    sender.on("accepted", () => {
      unsettled--;
      if (++done === plan.messages) resolve(done);
      else pump();
    });
    sender.on("rejected", (ctx: EventContext) => {
      const error = (ctx.delivery as unknown as { remote_state?: { error?: unknown } })
        .remote_state?.error;
      reject(new Error(`a transfer was rejected: ${JSON.stringify(error)}`));
    });
    sender.on("sendable", pump);
    pump();
  });
}

async function run(plan: AmqpLoadPlan, lines: AsyncIterator<string>): Promise<LoadResult> {
  const expected = plan.pairs.length * plan.messages;
  let received = 0;
  let finishedAt = 0;
  let allReceived: () => void = () => {};
  const everything = new Promise<void>((resolve) => allReceived = resolve);
  const connections: Connection[] = [];
  const senders: Sender[] = [];
  for (const pair of plan.pairs) {
    const inbound = await open(plan, pair.receiver);
    connections.push(inbound);
    const receiver = await attach(
      inbound.open_receiver({ source: { address: pair.receiver.address }, credit_window: 500 }),
      "receiver_open",
    );
    receiver.on("message", () => {
      received++;
      finishedAt = now();
      if (received >= expected) allReceived();
    });
    const outbound = await open(plan, pair.sender);
    connections.push(outbound);
    senders.push(
      await attach(outbound.open_sender({ target: { address: pair.sender.address } }), "sendable"),
    );
  }
  console.log(JSON.stringify({ event: "ready" }));
  await lines.next(); // "go"
  const startedAt = now();
  const sent = (await Promise.all(senders.map((sender) => send(plan, sender))))
    .reduce((sum, count) => sum + count, 0);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    everything,
    new Promise((resolve) => timer = setTimeout(resolve, plan.drainTimeoutMs)),
  ]);
  clearTimeout(timer);
  for (const connection of connections) connection.close();
  return { sent, received, startedAt, finishedAt, latenciesMs: [] };
}

if (import.meta.main) {
  tuneRhea();
  await runGenerator<AmqpLoadPlan>(run);
}
