import assert from "node:assert/strict";
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
