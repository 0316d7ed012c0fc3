import assert from "node:assert/strict";
import { figureRecord, markdownTable, ratio, summarize, tableRows } from "./report.ts";

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
