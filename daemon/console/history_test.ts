import assert from "node:assert/strict";
import { Histogram, type HistogramSnapshot } from "../../core/histogram.ts";
import { liveRates } from "./counters.ts";
import { type HistoryReading, MetricHistory, ratesPerSecond } from "./history.ts";

function reading(received: number, extra: Partial<HistoryReading> = {}): HistoryReading {
  return {
    received,
    routedByRoute: {},
    routedByEndpoint: {},
    deliveredByEndpoint: {},
    forwarded: 0,
    queueDepth: 0,
    queueBytes: 0,
    rssBytes: 100,
    cpuSeconds: 0,
    ...extra,
  };
}

Deno.test("MetricHistory: rates per interval, oldest first, bounded", () => {
  let now = 0;
  let received = 0;
  let cpu = 0;
  const history = new MetricHistory({
    read: () => reading(received, { cpuSeconds: cpu, queueDepth: received / 10 }),
    capacity: 3,
    intervalMs: 10_000,
    now: () => now,
  });
  history.sample(); // the first sample is the baseline only
  assert.deepEqual(history.series().at, []);
  for (let i = 1; i <= 5; i++) {
    now += 10_000;
    received += 100 * i;
    cpu += 2.5;
    history.sample();
  }
  const series = history.series();
  assert.deepEqual(series.at, [30_000, 40_000, 50_000], "the last 3 of 5, oldest first");
  assert.deepEqual(series.messageRate, [30, 40, 50]);
  assert.deepEqual(series.cpuPercent, [25, 25, 25]);
  assert.deepEqual(series.queueDepth, [60, 100, 150]);
});

Deno.test("MetricHistory: no sample while the counters cannot be read or throw", () => {
  let now = 0;
  let readable = false;
  const history = new MetricHistory({
    read: () => {
      if (!readable) throw new Error("hub not started");
      return reading(now / 100);
    },
    now: () => now,
  });
  history.sample();
  readable = true;
  now = 10_000;
  history.sample();
  now = 20_000;
  history.sample();
  assert.deepEqual(history.series().messageRate, [10]);
});

Deno.test("MetricHistory.baseline() never measures a rate over a sliver of time", () => {
  let now = 0;
  const history = new MetricHistory({
    read: () => reading(now),
    intervalMs: 10_000,
    now: () => now,
  });
  history.sample();
  now = 10_000;
  history.sample();
  assert.equal(history.baseline(10_001)?.at, 0, "just sampled: the one before");
  assert.equal(history.baseline(15_000)?.at, 10_000, "half an interval old: the last");
});

Deno.test("ratesPerSecond() counts new keys and reset counters from zero", () => {
  assert.deepEqual(ratesPerSecond({ a: 30, b: 5, c: 2 }, { a: 10, c: 9 }, 10), {
    a: 2,
    b: 0.5,
    c: 0.2,
  });
  assert.deepEqual(ratesPerSecond({ a: 1 }, undefined, 0), { a: 0 });
});

function withSyncs(syncSeconds: HistogramSnapshot): HistoryReading {
  return reading(0, { syncSeconds });
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
  const base = withSyncs(syncs.snapshot());
  syncs.observe(0.005);
  syncs.observe(0.02);
  await t.step("the syncs since the baseline only", () => {
    const recent = liveRates(historyOf(base), withSyncs(syncs.snapshot())).syncSeconds;
    assert.deepEqual(recent?.cumulative, [0, 1]);
    assert.equal(recent?.count, 2);
  });
  await t.step("none without a baseline that read them", () => {
    assert.equal(
      liveRates(historyOf(reading(0)), withSyncs(syncs.snapshot())).syncSeconds,
      undefined,
    );
  });
  await t.step("none when the counts went down (a hub started anew)", () => {
    const fresh = new Histogram([0.001, 0.01]).snapshot();
    const later = historyOf(withSyncs(syncs.snapshot()));
    assert.equal(liveRates(later, withSyncs(fresh)).syncSeconds, undefined);
  });
});
