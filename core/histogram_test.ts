import assert from "node:assert/strict";
import { Histogram, histogramDifference, histogramQuantile } from "./histogram.ts";

Deno.test("Histogram counts an observation in the first bucket whose bound is at least it", () => {
  const histogram = new Histogram([1, 2, 5]);
  for (const value of [0, 1, 1.5, 2, 3, 5, 6, 100]) histogram.observe(value);
  assert.deepEqual(histogram.snapshot(), {
    bounds: [1, 2, 5],
    cumulative: [2, 4, 6],
    count: 8,
    sum: 118.5,
  });
});

Deno.test("Histogram refuses bounds that are empty, not finite or not ascending", () => {
  assert.throws(() => new Histogram([]), /no bucket bounds/);
  assert.throws(() => new Histogram([1, Infinity]), /bound Infinity/);
  assert.throws(() => new Histogram([1, 1]), /bound 1 is not finite and above the one before/);
  assert.throws(() => new Histogram([2, 1]), /bound 1/);
});

Deno.test("a snapshot does not change with later observations", () => {
  const histogram = new Histogram([1]);
  histogram.observe(0.5);
  const before = histogram.snapshot();
  histogram.observe(0.5);
  assert.deepEqual(before.cumulative, [1]);
  assert.equal(before.count, 1);
});

Deno.test("histogramDifference() gives the observations between two snapshots", () => {
  const histogram = new Histogram([1, 2]);
  histogram.observe(0.5);
  histogram.observe(3);
  const earlier = histogram.snapshot();
  histogram.observe(1.5);
  histogram.observe(0.25);
  assert.deepEqual(histogramDifference(histogram.snapshot(), earlier), {
    bounds: [1, 2],
    cumulative: [1, 2],
    count: 2,
    sum: 1.75,
  });
  assert.throws(() => histogramDifference(earlier, histogram.snapshot()), /counts fewer/);
  assert.throws(
    () => histogramDifference(new Histogram([1, 3]).snapshot(), earlier),
    /bounds differ/,
  );
});

Deno.test("histogramQuantile() interpolates within the bucket as Prometheus does", async (t) => {
  const histogram = new Histogram([1, 2, 4]);
  await t.step("no observations: NaN", () => {
    assert.ok(Number.isNaN(histogramQuantile(histogram.snapshot(), 0.5)));
  });
  // 10 in (0, 1], 10 in (1, 2], none in (2, 4], 0 above.
  for (let i = 0; i < 10; i++) histogram.observe(0.5);
  for (let i = 0; i < 10; i++) histogram.observe(1.5);
  await t.step("within the first bucket, from 0", () => {
    assert.equal(histogramQuantile(histogram.snapshot(), 0.25), 0.5);
  });
  await t.step("within a later bucket, from its lower bound", () => {
    assert.equal(histogramQuantile(histogram.snapshot(), 0.75), 1.5);
    assert.equal(histogramQuantile(histogram.snapshot(), 1), 2);
  });
  await t.step("in the +Inf bucket: the highest bound", () => {
    histogram.observe(10);
    assert.equal(histogramQuantile(histogram.snapshot(), 0.99), 4);
  });
  await t.step("a quantile outside 0..1 is refused", () => {
    assert.throws(() => histogramQuantile(histogram.snapshot(), 1.5), /quantile 1.5/);
  });
});
