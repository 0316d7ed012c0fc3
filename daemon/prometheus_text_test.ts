import assert from "node:assert/strict";
import parsePrometheus from "npm:parse-prometheus-text-format@1.1.1";
import { Histogram } from "../core/histogram.ts";
import { checkFamily, familyText, formatSampleValue, prometheusText } from "./prometheus_text.ts";

Deno.test("familyText() writes HELP, TYPE and one escaped line per series", () => {
  const text = familyText({
    name: "edgehub_messages_received_total",
    help: 'Messages "received"\\ by\nidentity.',
    type: "counter",
    labelNames: ["id", "route"],
    read: () => [
      { labels: { id: 'a"b\\c\nd' }, value: 1 },
      { labels: { id: "x", route: "r1" }, value: 2 },
      { labels: { id: "x", route: "r1" }, value: 3 },
    ],
  });
  assert.equal(
    text,
    '# HELP edgehub_messages_received_total Messages "received"\\\\ by\\nidentity.\n' +
      "# TYPE edgehub_messages_received_total counter\n" +
      'edgehub_messages_received_total{id="a\\"b\\\\c\\nd"} 1\n' +
      'edgehub_messages_received_total{id="x",route="r1"} 5\n',
  );
  const [family] = parsePrometheus(text) as { metrics: { labels: Record<string, string> }[] }[];
  assert.deepEqual(family!.metrics[0]!.labels, { id: 'a"b\\c\nd' });
});

Deno.test("a gauge keeps the last value of a series; an unlabelled family without samples reads 0", () => {
  const gauge = familyText({
    name: "g",
    help: "h",
    type: "gauge",
    labelNames: ["e"],
    read: () => [{ labels: { e: "a" }, value: 1 }, { labels: { e: "a" }, value: 4 }],
  });
  assert.match(gauge, /^g\{e="a"\} 4$/m);
  assert.doesNotMatch(gauge, /^g\{e="a"\} 1$/m);
  assert.match(familyText({ name: "u", help: "h", type: "gauge", read: () => [] }), /^u 0$/m);
  assert.doesNotMatch(
    familyText({ name: "l", help: "h", type: "gauge", labelNames: ["x"], read: () => [] }),
    /^l /m,
  );
});

Deno.test("formatSampleValue() writes infinities and NaN as Prometheus does", () => {
  assert.deepEqual(
    [Infinity, -Infinity, NaN, 0.5, 1e21, -3].map(formatSampleValue),
    ["+Inf", "-Inf", "NaN", "0.5", "1e+21", "-3"],
  );
});

Deno.test("prometheusText() leaves out a family whose read throws, and says which", () => {
  const failed: string[] = [];
  const text = prometheusText([
    {
      name: "bad",
      help: "h",
      type: "gauge",
      read: () => {
        throw new Error("boom");
      },
    },
    { name: "good", help: "h", type: "gauge", read: () => [{ value: 1 }] },
  ], (family) => failed.push(family.name));
  assert.deepEqual(failed, ["bad"]);
  assert.match(text, /^good 1$/m);
  assert.doesNotMatch(text, /bad/);
});

Deno.test("familyText() writes a histogram's cumulative buckets, +Inf, sum and count", () => {
  const histogram = new Histogram([0.001, 0.01]);
  for (const seconds of [0.0005, 0.002, 0.003, 0.5]) histogram.observe(seconds);
  const text = familyText({
    name: "ledge_store_sync_duration_seconds",
    help: "h",
    type: "histogram",
    labelNames: ["file"],
    read: () => [{ labels: { file: "wal" }, histogram: histogram.snapshot() }],
  });
  assert.equal(
    text,
    "# HELP ledge_store_sync_duration_seconds h\n" +
      "# TYPE ledge_store_sync_duration_seconds histogram\n" +
      'ledge_store_sync_duration_seconds_bucket{file="wal",le="0.001"} 1\n' +
      'ledge_store_sync_duration_seconds_bucket{file="wal",le="0.01"} 3\n' +
      'ledge_store_sync_duration_seconds_bucket{file="wal",le="+Inf"} 4\n' +
      'ledge_store_sync_duration_seconds_sum{file="wal"} 0.5055\n' +
      'ledge_store_sync_duration_seconds_count{file="wal"} 4\n',
  );
  // A third-party parser of the format reads its buckets back as one histogram.
  const [family] = parsePrometheus(text) as {
    type: string;
    metrics: { buckets: Record<string, string> }[];
  }[];
  assert.equal(family!.type, "HISTOGRAM");
  assert.deepEqual(family!.metrics[0]!.buckets, { "0.001": "1", "0.01": "3", "+Inf": "4" });
});

Deno.test("checkFamily() refuses a histogram labelled le", () => {
  const family = {
    name: "h",
    help: "h",
    type: "histogram" as const,
    labelNames: ["le"],
    read: () => [],
  };
  assert.throws(() => checkFamily(family), /label "le" is not valid/);
  assert.doesNotThrow(() => checkFamily({ ...family, type: "gauge" }));
});
