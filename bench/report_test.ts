import assert from "node:assert/strict";
import { figureRecord, markdownTable, pairedRatio, ratio, summarize, tableRows } from "./report.ts";

Deno.test("summarize() gives min, median and max for odd and even counts", () => {
  assert.deepEqual(summarize([3, 1, 2]), { min: 1, median: 2, max: 3 });
  assert.deepEqual(summarize([4, 1, 3, 2]), { min: 1, median: 2.5, max: 4 });
});

Deno.test("ratio() compares medians with the reference measured in the same run", () => {
  const figure = {
    group: "broker",
    name: "QoS 1 routed",
    unit: "msg/s",
    higherIsBetter: true,
    values: [10, 30, 20],
    reference: { name: "mosquitto", values: [40, 40, 50] },
  };
  assert.equal(ratio(figure), 0.5);
  assert.equal(figureRecord(figure).referenceMedian, 40);
  assert.equal(ratio({ ...figure, reference: undefined! }), undefined);
});

Deno.test("markdownTable() escapes pipes and has a header rule", () => {
  const rows = tableRows([{
    group: "g",
    name: "a|b",
    unit: "u",
    higherIsBetter: true,
    values: [1],
  }]);
  const lines = markdownTable(rows).split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, /^\| --- \|/);
  assert.match(lines[2]!, /a\\\|b/);
});

Deno.test("pairedRatio() is the median of the rounds' ratios, only for paired runs", () => {
  // A machine that slows down by half for the last rounds: ledge is 1.5x the reference in four
  // rounds of five, but the medians come from different phases.
  const figure = {
    group: "broker",
    name: "CPU per message",
    unit: "us",
    higherIsBetter: false,
    values: [30, 30, 30, 60, 60],
    reference: { name: "mosquitto", values: [20, 20, 40, 40, 40], paired: true },
  };
  assert.equal(ratio(figure), 0.75);
  assert.equal(pairedRatio(figure), 1.5);
  assert.equal(figureRecord(figure).pairedRatio, 1.5);
  assert.match(tableRows([figure])[1]!.at(-1)!, /^0\.75× \(paired 1\.50×\)$/);
  const unpaired = { ...figure, reference: { ...figure.reference, paired: false } };
  assert.equal(pairedRatio(unpaired), undefined);
  assert.equal(figureRecord(unpaired).pairedRatio, undefined);
  assert.equal(tableRows([unpaired])[1]!.at(-1), "0.75×");
  const uneven = { ...figure, values: [30, 30] };
  assert.equal(pairedRatio(uneven), undefined, "runs that do not pair up");
});
