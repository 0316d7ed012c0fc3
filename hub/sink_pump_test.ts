import assert from "node:assert/strict";
import type { DeliverySettle } from "./head_port.ts";
import { startSinkPump } from "./sink_pump.ts";
import type { MessageStore, QueuedMessage } from "../store/mod.ts";
import { withTempStore } from "./_temp_store.ts";

const ENDPOINT = "/modules/b/inputs/in";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function enqueue(store: MessageStore, count: number) {
  const pending = [];
  for (let n = 1; n <= count; n++) {
    pending.push(store.enqueue(
      { body: encoder.encode(String(n)), appProperties: {}, systemProperties: {} },
      [{ endpoint: ENDPOINT, priority: 0, ttlSeconds: -1 }],
    ));
  }
  await Promise.all(pending);
}

/** A sink with settable credit that records what it got. */
function creditSink(credit: number) {
  const got: { body: string; settle: DeliverySettle }[] = [];
  return {
    got,
    credit,
    room() {
      return this.credit;
    },
    deliver(queued: QueuedMessage, settle: DeliverySettle) {
      this.credit--;
      got.push({ body: decoder.decode(queued.message.body), settle });
    },
  };
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("startSinkPump() delivers no more than the sink's credit and the in-flight bound", async () => {
  await withTempStore(async (store) => {
    await enqueue(store, 10);
    const sink = creditSink(3);
    const pump = startSinkPump(sink, { store, maxInflight: 4 });
    pump.addEndpoint(ENDPOINT);
    await turn();
    assert.deepEqual(sink.got.map((d) => d.body), ["1", "2", "3"]);
    sink.credit = 100;
    pump.wake();
    await turn();
    assert.equal(sink.got.length, 4, "the in-flight bound holds the fifth back");
    assert.equal(pump.inflight(), 4);
    for (const delivery of sink.got.splice(0)) delivery.settle.ack();
    await turn();
    assert.deepEqual(sink.got.map((d) => d.body), ["5", "6", "7", "8"]);
    pump.stop();
  });
});

Deno.test("startSinkPump() acks complete and reject, redelivers abandon and what stop left", async () => {
  await withTempStore(async (store) => {
    await enqueue(store, 3);
    const settled: string[] = [];
    const sink = creditSink(100);
    const pump = startSinkPump(sink, {
      store,
      maxInflight: 10,
      onSettled: (_endpoint, outcome) => settled.push(outcome),
    });
    pump.addEndpoint(ENDPOINT);
    await turn();
    const [one, two, three] = sink.got.splice(0);
    one!.settle.ack();
    two!.settle.reject();
    two!.settle.ack(); // a second settle of the same delivery does nothing
    three!.settle.release();
    await turn();
    assert.deepEqual(sink.got.map((d) => d.body), ["3"], "abandon delivers it again");
    assert.deepEqual(settled, ["ack", "reject"]);
    pump.stop();
    assert.equal(pump.inflight(), 0);
    const again = store.take(ENDPOINT, 10).map((q) => decoder.decode(q.message.body));
    assert.deepEqual(again, ["3"], "stop released the unsettled delivery; 1 and 2 are gone");
  });
});

Deno.test("startSinkPump() wakes when a message arrives for an idle endpoint", async () => {
  await withTempStore(async (store) => {
    const sink = creditSink(10);
    const pump = startSinkPump(sink, { store, maxInflight: 10 });
    pump.addEndpoint(ENDPOINT);
    await turn();
    assert.equal(sink.got.length, 0);
    await enqueue(store, 1);
    await turn();
    assert.deepEqual(sink.got.map((d) => d.body), ["1"]);
    pump.stop();
  });
});
