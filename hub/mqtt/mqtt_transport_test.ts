import assert from "node:assert/strict";
import { bagForDelivery, deliveryBagLength } from "../../iothub/mod.ts";
import { encodePublish } from "../publish_packet.ts";
import { BatchedWriter, type ByteTransport } from "./mqtt_transport.ts";

/** A transport that records copies of its writes and calls back when told to. */
function slowTransport(reusable: boolean) {
  const written: Uint8Array[] = [];
  const handed: Uint8Array[] = [];
  const callbacks: (() => void)[] = [];
  const transport: ByteTransport = {
    reusable,
    start() {},
    write(bytes, done) {
      handed.push(bytes);
      written.push(bytes.slice());
      callbacks.push(done);
    },
    pause() {},
    resume() {},
    close() {},
  };
  return { transport, written, handed, callbacks };
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));
const encoder = new TextEncoder();

for (const reusable of [true, false]) {
  Deno.test(`BatchedWriter writes one turn's packets in one write, PUBLISH encoded in place (reusable ${reusable})`, async () => {
    const { transport, written, handed, callbacks } = slowTransport(reusable);
    const writer = new BatchedWriter(transport);
    const head = encoder.encode("devices/d/modules/m/inputs/in/");
    const bodies = [new Uint8Array(3000).fill(1), new Uint8Array(10).fill(2)];
    writer.puback(258);
    writer.publish(head, "%24.mid=a&k=v", bodies[0]!, 1, 7);
    writer.publish(undefined, "$iothub/twin/res/200/?$rid=1", bodies[1]!, 0, 0);
    await turn();
    assert.equal(written.length, 1);
    assert.deepEqual(
      written[0],
      new Uint8Array([
        0x40,
        2,
        1,
        2,
        ...encodePublish("devices/d/modules/m/inputs/in/%24.mid=a&k=v", bodies[0]!, {
          qos: 1,
          packetId: 7,
        }),
        ...encodePublish("$iothub/twin/res/200/?$rid=1", bodies[1]!, { qos: 0 }),
      ]),
    );
    // While that write is in flight, the next turn's batch goes elsewhere; it leaves once the
    // first write called back, and the first write's bytes were not touched meanwhile.
    writer.publish(head, "é", new Uint8Array(5000).fill(3), 1, 8);
    await turn();
    assert.equal(written.length, 1);
    assert.deepEqual(handed[0], written[0], "a batch in flight is never written into");
    callbacks.shift()!();
    assert.equal(written.length, 2);
    assert.deepEqual(
      written[1],
      encodePublish("devices/d/modules/m/inputs/in/é", new Uint8Array(5000).fill(3), {
        qos: 1,
        packetId: 8,
      }),
    );
    callbacks.shift()!();
    writer.puback(9);
    await turn();
    assert.deepEqual(written[2], new Uint8Array([0x40, 2, 0, 9]));
  });
}

Deno.test("BatchedWriter on a reusable transport keeps its buffer through turns of varying size, and lets it go after a run of small ones", async () => {
  const { transport, written, handed, callbacks } = slowTransport(true);
  const writer = new BatchedWriter(transport);
  const head = encoder.encode("devices/d/modules/m/inputs/in/");
  const body = new Uint8Array(16 * 1024).fill(7);
  // A busy receiver: turns of 20, 1, 12, 1, 3 deliveries of 16 KiB, each written before the next.
  const counts = [20, 1, 12, 1, 3, 20, 1, 1, 2, 20, 1, 5];
  let packetId = 1;
  for (const count of counts) {
    const expected: number[] = [];
    for (let i = 0; i < count; i++) {
      writer.publish(head, "k=v", body, 1, packetId);
      expected.push(
        ...encodePublish("devices/d/modules/m/inputs/in/k=v", body, { qos: 1, packetId }),
      );
      packetId++;
    }
    await turn();
    assert.deepEqual(written.at(-1), new Uint8Array(expected));
    callbacks.shift()!();
  }
  const buffers = new Set(handed.map((bytes) => bytes.buffer));
  assert.equal(buffers.size, 1, "one batch buffer, grown once to the largest turn");
  // A connection that quietened down: a PUBACK per turn. The large buffer goes after 8 turns.
  for (let i = 0; i < 10; i++) {
    writer.puback(i + 1);
    await turn();
    assert.deepEqual(written.at(-1), new Uint8Array([0x40, 2, 0, i + 1]));
    callbacks.shift()!();
  }
  assert.ok(handed.at(-1)!.buffer.byteLength <= 2048, "back to a small batch buffer");
});

Deno.test("ConnTransport keeps its large read buffer through a few short reads, and shrinks after a run of them", async () => {
  // Read sizes: fill the small buffer (grow), then a busy sender's reads with the odd short one.
  const script = [2048, 65536, 100, 65536, 300, 65536, 65536, 50, 60, 70, 80, 90];
  const lengths: number[] = [];
  const buffers = new Set<ArrayBufferLike>();
  let next = 0;
  const conn = {
    read(buffer: Uint8Array): Promise<number | null> {
      lengths.push(buffer.length);
      if (buffer.length > 2048) buffers.add(buffer.buffer);
      const n = script[next++];
      return Promise.resolve(n === undefined ? null : Math.min(n, buffer.length));
    },
    close() {},
  } as unknown as Deno.Conn;
  const { ConnTransport } = await import("./mqtt_transport.ts");
  const closed = Promise.withResolvers<void>();
  new ConnTransport(conn).start(() => {}, () => closed.resolve());
  await closed.promise;
  assert.deepEqual(lengths, [2048, ...Array(10).fill(65536), 2048, 2048]);
  assert.equal(buffers.size, 1, "the large buffer is allocated once");
});

Deno.test("BatchedWriter writes a PUBLISH whose topic tail is a message's bag as the bag's text", async () => {
  const { transport, written } = slowTransport(true);
  const writer = new BatchedWriter(transport);
  const head = encoder.encode("devices/d/modules/m/inputs/in/");
  const message = {
    body: new Uint8Array(300).fill(4),
    appProperties: { "k y": "v&1", "\u00e9": "x" },
    systemProperties: { messageId: "id-1", contentType: "application/json", outputName: undefined },
  };
  writer.publish(head, { message, length: deliveryBagLength(message) }, message.body, 1, 11);
  const plain = { ...message, appProperties: {} };
  writer.publish(
    undefined,
    { message: plain, length: deliveryBagLength(plain) },
    message.body,
    0,
    0,
  );
  await turn();
  const tail = bagForDelivery(message);
  assert.equal(tail, "k%20y=v%261&%C3%A9=x&%24.mid=id-1&%24.ct=application%2Fjson");
  assert.deepEqual(
    written[0],
    new Uint8Array([
      ...encodePublish(`devices/d/modules/m/inputs/in/${tail}`, message.body, {
        qos: 1,
        packetId: 11,
      }),
      ...encodePublish("%24.mid=id-1&%24.ct=application%2Fjson", message.body, { qos: 0 }),
    ]),
  );
});
