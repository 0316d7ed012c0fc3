import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import rhea from "rhea";
import rheaFrames from "rhea/lib/frames.js";
import { tuneRhea } from "./rhea_tuning.ts";

type Create = (fields: Record<string, unknown>) => { described(): unknown };
const frames = rheaFrames as Record<string, Create>;
const message = rhea.message as unknown as Record<string, Create>;
const outcomes = message;
const constructorOf = (create: Create) => create({}).constructor as unknown as { create: Create };
// Untuned: frames' creates and the message sections' constructors' creates, taken before tuning.
const untuned: Record<string, Create> = {
  transfer: frames.transfer!,
  disposition: frames.disposition!,
  flow: frames.flow!,
  header: constructorOf(message.header!).create,
  properties: constructorOf(message.properties!).create,
};
const tuned = (): Record<string, Create> => ({
  transfer: frames.transfer!,
  disposition: frames.disposition!,
  flow: frames.flow!,
  header: constructorOf(message.header!).create,
  properties: constructorOf(message.properties!).create,
});

const samples: Record<string, Record<string, unknown>[]> = {
  transfer: [
    {
      handle: 0,
      message_format: 0,
      delivery_id: 7,
      delivery_tag: Buffer.from("7"),
      settled: false,
      more: false,
    },
    {
      handle: 300,
      delivery_id: 70000,
      delivery_tag: Buffer.alloc(300, 1),
      settled: true,
      more: true,
      batchable: true,
    },
    { handle: 1, more: undefined, rcv_settle_mode: 1, resume: null, extra: "kept" },
  ],
  disposition: [
    { role: true, first: 0, last: 41, state: outcomes.accepted!({}).described(), settled: true },
    {
      role: false,
      first: 256,
      state: outcomes.rejected!({ error: { condition: "amqp:x" } }).described(),
    },
  ],
  flow: [
    {
      next_incoming_id: 0,
      incoming_window: 2048,
      next_outgoing_id: 5,
      outgoing_window: 4294967295,
    },
    {
      next_incoming_id: 9,
      incoming_window: 1,
      next_outgoing_id: 1,
      outgoing_window: 0,
      handle: 3,
      delivery_count: 1000,
      link_credit: 256,
      drain: true,
      echo: false,
      properties: { "x-a": "b" },
    },
  ],
  header: [{}, {
    durable: true,
    priority: 7,
    ttl: 60000,
    first_acquirer: false,
    delivery_count: 2,
    body: "x",
  }],
  properties: [
    {},
    {
      message_id: "m",
      user_id: Buffer.from("u"),
      to: "t",
      subject: "s",
      reply_to: "r",
      correlation_id: 300,
      content_type: "application/json",
      content_encoding: "utf-8",
      absolute_expiry_time: new Date(1e12),
      creation_time: new Date(2e12),
      group_id: "g",
      group_sequence: 4,
      reply_to_group_id: "rg",
      message_annotations: { "x-opt-input-name": "in" },
      body: rhea.message.data_section(Buffer.from("b")),
    },
    { message_id: rhea.string_to_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"), to: undefined },
  ],
};

/** The typecodes of a composite's fields, the bytes it encodes to; or the error `create` throws. */
function encoded(create: Create, fields: Record<string, unknown>): string {
  try {
    const composite = create(fields);
    const typecodes = Array.from(
      (composite as unknown as { value: ({ type?: { typecode: number } } | undefined)[] }).value,
      (field) => field === undefined ? "none" : field.type?.typecode ?? "as is",
    );
    const writer = new (rhea.types as unknown as { Writer: new () => RheaWriter }).Writer();
    writer.write(composite.described());
    return `${typecodes.join()} ${Buffer.from(writer.toBuffer()).toString("hex")}`;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

interface RheaWriter {
  write(value: unknown): void;
  toBuffer(): Uint8Array;
}

Deno.test("tuneRhea() makes rhea's transfer, disposition, flow and message section composites as rhea does", () => {
  const invalid: Record<string, Record<string, unknown>[]> = {
    transfer: [{ delivery_id: 1 }, { handle: undefined }, {
      handle: 1,
      delivery_tag: [Buffer.from("a")],
    }],
    disposition: [{ role: true }],
    flow: [{ incoming_window: 1, next_outgoing_id: 1 }],
  };
  const expected = Object.entries(untuned).map(([name, create]) =>
    [...samples[name]!, ...(invalid[name] ?? [])].map((fields) => encoded(create, fields))
  );
  tuneRhea();
  const now = tuned();
  for (const name of Object.keys(untuned)) {
    assert.notEqual(now[name], untuned[name], `${name} was not tuned`);
  }
  const actual = Object.entries(now).map(([name, create]) =>
    [...samples[name]!, ...(invalid[name] ?? [])].map((fields) => encoded(create, fields))
  );
  assert.deepEqual(actual, expected);
  assert.ok(expected.flat().some((e) => e.startsWith("TypeError: Field handle is mandatory")));
});

Deno.test("tuneRhea() keeps a frame's keys that are not fields, as rhea does", () => {
  tuneRhea();
  const transfer = frames.transfer!({ handle: 1, extra: "kept" }) as unknown as Record<
    string,
    unknown
  >;
  assert.equal(transfer.extra, "kept");
  assert.equal(transfer.handle, 1);
});
