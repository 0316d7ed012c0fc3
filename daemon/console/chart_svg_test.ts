import assert from "node:assert/strict";
import { chartPaths, chartWindowMs, niceCeiling, timeChart } from "./chart_svg.ts";

Deno.test("niceCeiling() rounds up to 1, 2 or 5 times a power of ten", () => {
  assert.deepEqual([0, 0.3, 1, 1.1, 3, 7, 12, 180, 5000].map(niceCeiling), [
    1,
    0.5,
    1,
    2,
    5,
    10,
    20,
    200,
    5000,
  ]);
});

Deno.test("chartPaths() draws the line and closes the area on the baseline", () => {
  assert.deepEqual(chartPaths([], 100), { line: "", area: "" });
  const { line, area } = chartPaths([{ x: 0, y: 50 }, { x: 10, y: 20 }], 100);
  assert.equal(line, "M0.0,50.0L10.0,20.0");
  assert.equal(area, "M0.0,50.0L10.0,20.0L10.0,100L0.0,100Z");
});

Deno.test("timeChart() shows the latest value and only the last hour", () => {
  const now = 10_000_000;
  const svg = timeChart({
    id: "c",
    title: "rate",
    at: [now - 7200_000, now - 60_000, now],
    values: [999, 1, 3],
    format: (v) => `${v}/s`,
    now,
  }).toString();
  assert.match(svg, /data-k="c:latest">3\/s</);
  assert.match(svg, />5\/s</, "the axis top is the visible peak's ceiling, not the old 999");
  assert.match(
    timeChart({ id: "e", title: "t", at: [], values: [], format: String }).toString(),
    /no samples yet/,
  );
});

Deno.test("chartWindowMs() spans the last hour, or the daemon's life in whole 5 minutes", () => {
  const now = 100 * 3600_000;
  assert.equal(chartWindowMs([], now), 3600_000);
  assert.equal(chartWindowMs([now - 30_000], now), 300_000);
  assert.equal(chartWindowMs([now - 7 * 60_000], now), 600_000);
  assert.equal(chartWindowMs([now - 5 * 3600_000], now), 3600_000);
});
