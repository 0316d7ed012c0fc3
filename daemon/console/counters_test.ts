import assert from "node:assert/strict";
import { Histogram } from "../../core/histogram.ts";
import { liveRates } from "./counters.ts";
import { type HistoryReading, MetricHistory } from "./history.ts";

function reading(syncSeconds?: ReturnType<Histogram["snapshot"]>): HistoryReading {
  return {
    received: 0,
    routedByRoute: {},
    routedByEndpoint: {},
    deliveredByEndpoint: {},
    forwarded: 0,
    queueDepth: 0,
    queueBytes: 0,
    rssBytes: 0,
    cpuSeconds: 0,
    ...(syncSeconds ? { syncSeconds } : {}),
  };
}

/** A history whose one sample was taken 10 s ago, reading `base`. */
function historyOf(base: HistoryReading): MetricHistory {
  const history = new MetricHistory({ read: () => base, now: () => Date.now() - 10_000 });
  history.sample();
  return history;
}

Deno.test("liveRates() gives the store's syncs of the live window", async (t) => {
  const syncs = new Histogram([0.001, 0.01]);
  syncs.observe(0.0005);
  const base = reading(syncs.snapshot());
  syncs.observe(0.005);
  syncs.observe(0.02);
  await t.step("the syncs since the baseline only", () => {
    const recent = liveRates(historyOf(base), reading(syncs.snapshot())).syncSeconds;
    assert.deepEqual(recent?.cumulative, [0, 1]);
    assert.equal(recent?.count, 2);
  });
  await t.step("none without a baseline that read them", () => {
    assert.equal(liveRates(historyOf(reading()), reading(syncs.snapshot())).syncSeconds, undefined);
  });
  await t.step("none when the counts went down (a hub started anew)", () => {
    const fresh = new Histogram([0.001, 0.01]).snapshot();
    const later = historyOf(reading(syncs.snapshot()));
    assert.equal(liveRates(later, reading(fresh)).syncSeconds, undefined);
  });
});
