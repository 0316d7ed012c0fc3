import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { inspect } from "node:util";
import rhea from "rhea";
import rheaFrames from "rhea/lib/frames.js";
import { tuneRhea } from "./rhea_tuning.ts";

interface Types {
  [name: string]: (...args: unknown[]) => unknown;
}
interface RheaWriter {
  write(value: unknown): void;
  toBuffer(): Uint8Array;
}
const types = rhea.types as unknown as Types & { Writer: new () => RheaWriter };

function encode(...values: unknown[]): Buffer {
  const writer = new types.Writer();
  for (const value of values) writer.write(value);
  return Buffer.from(writer.toBuffer());
}

const described = () =>
  types.described!(types.wrap_symbol!("com.example:x"), types.wrap_string!("v"));
const str8 = (text: string) => types.Str8!(text);

/** Encodings holding what the decoder treats apart: map8 and map32, described values in maps
 * and lists (left described), an error (rhea's one composite type), nested lists. */
function encodings(): Buffer[] {
  return [
    Buffer.from(rhea.message.encode({
      application_properties: { a: described(), n: 1, s: "t" },
      message_annotations: { x: described(), list: [1, [2, described()]] },
      body: [described(), 1, { k: [true, null] }],
    } as never)),
    encode(
      types.described!(
        types.wrap_ulong!(0x74),
        types.Map8!([str8("k"), str8("v"), str8("n"), described()]),
      ),
      types.described!(
        types.wrap_ulong!(0x77),
        types.Map8!([str8("m"), types.Map8!([str8("a"), str8("b")])]),
      ),
    ),
    encode(
      types.wrap_error!({ condition: "amqp:internal-error", description: "d", info: { a: 1 } }),
    ),
    encode(
      types.described!(types.wrap_ulong!(0x77), types.wrap_list!([described(), [described()]])),
    ),
  ];
}

function decodeAll(buffers: Buffer[]): string[] {
  const decoded = [
    rhea.message.decode(buffers[0]!),
    rhea.message.decode(buffers[1]!),
    types.unwrap!(new (rhea.types as unknown as { Reader: new (b: Buffer) => { read(): unknown } })
      .Reader(buffers[2]!).read()),
    rhea.message.decode(buffers[3]!),
  ];
  return decoded.map((value) => inspect(value, { depth: 12 }));
}

const transfer = () =>
  (rheaFrames as { write_frame(frame: unknown): Buffer; transfer(fields: unknown): unknown })
    .write_frame({
      type: 0,
      channel: 3,
      performative: (rheaFrames as { transfer(fields: unknown): unknown }).transfer({
        handle: 1,
        delivery_id: 300,
        delivery_tag: Buffer.from("t"),
        message_format: 0,
        settled: false,
      }),
      payload: encodings()[0],
    });

Deno.test("tuneRhea() decodes maps, described values, errors and frames into what rhea made", () => {
  const buffers = [...encodings(), transfer()];
  const before = decodeAll(buffers);
  const frameBefore = inspect(
    (rheaFrames as { read_frame(b: Buffer): unknown }).read_frame(buffers[4]!),
    {
      depth: 12,
    },
  );
  tuneRhea();
  assert.deepEqual(decodeAll(buffers), before);
  assert.equal(
    inspect((rheaFrames as { read_frame(b: Buffer): unknown }).read_frame(buffers[4]!), {
      depth: 12,
    }),
    frameBefore,
  );
  // The snapshots hold what the cases are about.
  assert.match(before[0]!, /Typed/);
  assert.match(before[1]!, /k: 'v'/);
  const error = types.unwrap!(
    new (rhea.types as unknown as { Reader: new (b: Buffer) => { read(): unknown } })
      .Reader(buffers[2]!).read(),
  ) as { condition: string };
  assert.equal(error.condition, "amqp:internal-error");
});
