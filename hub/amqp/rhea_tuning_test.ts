import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import rhea from "rhea";
import frames from "rhea/lib/frames.js";
import rheaLog from "rhea/lib/log.js";
import { tuneRhea } from "./rhea_tuning.ts";

type Logger = ((...args: unknown[]) => void) & { enabled?: boolean };
const loggers = rheaLog as Record<string, Logger>;
const untunedLoggers = { ...loggers };
const long = "x".repeat(300);
const messages: Record<string, unknown>[] = [
  { body: "hello" },
  { body: rhea.message.data_section(Buffer.alloc(256, 0x61)) },
  { body: rhea.message.data_section(Buffer.alloc(5000, 0x62)) },
  {
    message_id: "id-1",
    correlation_id: rhea.string_to_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"),
    content_type: "application/json",
    user_id: Buffer.from("edge"),
    to: "/devices/edge/modules/a/messages/events",
    absolute_expiry_time: new Date("2030-01-02T03:04:05Z"),
    message_annotations: {
      "iothub-connection-device-id": "edge",
      "x-opt-input-name": "in1",
      "iothub-enqueuedtime": new Date("2030-01-02T03:04:05Z"),
      [`x-${long}`]: "a symbol key over 255 bytes",
    },
    application_properties: {
      ascii: "plain",
      accents: "température",
      emoji: "🌡️ 21 °C",
      long,
      longAccents: "é".repeat(100),
      exactly64: "y".repeat(64),
      empty: "",
      n: 21,
      flag: true,
    },
    body: rhea.message.data_section(Buffer.from("{}")),
  },
];

function encodings(): Buffer[] {
  const encoded = messages.map((message) => rhea.message.encode(message as never));
  const transfer = frames.write_frame({
    type: frames.TYPE_AMQP,
    channel: 1,
    performative: frames.transfer({
      handle: 2,
      delivery_id: 3,
      delivery_tag: Buffer.from("7"),
      message_format: 0,
      settled: false,
      more: false,
    }),
    payload: encoded[3],
  });
  return [...encoded, transfer];
}

Deno.test("tuneRhea() leaves rhea's encoding byte for byte as it was", () => {
  const before = encodings();
  tuneRhea();
  const after = encodings();
  assert.equal(after.length, before.length);
  after.forEach((bytes, i) => assert.deepEqual(bytes, before[i], `encoding ${i} changed`));
  // What rhea decodes from the tuned encoding is the message it was given.
  const decoded = rhea.message.decode(after[3]!) as unknown as {
    application_properties: Record<string, unknown>;
    message_annotations: Record<string, unknown>;
  };
  assert.equal(decoded.application_properties.emoji, "🌡️ 21 °C");
  assert.equal(decoded.application_properties.longAccents, "é".repeat(100));
  assert.equal(decoded.message_annotations["x-opt-input-name"], "in1");
});

Deno.test("tuneRhea() replaces rhea's disabled loggers, keeps enabled ones, and runs once", () => {
  tuneRhea();
  tuneRhea();
  for (const [name, untuned] of Object.entries(untunedLoggers)) {
    if (untuned.enabled) assert.equal(loggers[name], untuned, name);
    else assert.notEqual(loggers[name], untuned, name);
  }
});
