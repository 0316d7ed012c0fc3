import assert from "node:assert/strict";
import parsePrometheus from "npm:parse-prometheus-text-format@1.1.1";
import { parseConfigText } from "../core/config_load.ts";
import { createMetrics, createMetricsComponent } from "./metrics.ts";
import { silentLogger } from "../core/log.ts";

interface ParsedFamily {
  name: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}

Deno.test("createMetrics() renders counters and gauges that a Prometheus parser reads back", async () => {
  const metrics = createMetrics();
  let received = 3;
  metrics.add(
    {
      name: "edgehub_messages_received_total",
      help: "Messages received.",
      type: "counter",
      labelNames: ["id"],
      read: () => [{ labels: { id: "dev/sensor" }, value: received }],
    },
    {
      name: "edgehub_queue_length",
      help: "Queue depth.",
      type: "gauge",
      labelNames: ["endpoint"],
      read: () => [{ labels: { endpoint: "upstream" }, value: 7 }],
    },
  );
  const first = parsePrometheus(await metrics.text()) as ParsedFamily[];
  const counter = first.find((f) => f.name === "edgehub_messages_received_total")!;
  assert.equal(counter.type, "COUNTER");
  assert.deepEqual(counter.metrics, [{ value: "3", labels: { id: "dev/sensor" } }]);
  received = 10;
  const second = parsePrometheus(await metrics.text()) as ParsedFamily[];
  assert.equal(
    second.find((f) => f.name === "edgehub_messages_received_total")!.metrics[0]!.value,
    "10",
  );
  assert.equal(second.find((f) => f.name === "edgehub_queue_length")!.metrics[0]!.value, "7");
});

Deno.test("the metrics component serves /metrics with process figures and 404 elsewhere", async () => {
  const config = parseConfigText(`[metrics]\nlisten = "127.0.0.1:0"`, {
    uid: 1000,
    hostname: "t",
    env: { HOME: "/tmp" },
  });
  const component = createMetricsComponent({ config, stateDir: "/tmp", logger: silentLogger });
  await component.start(new AbortController().signal);
  try {
    const port = component.listeners().metrics;
    assert.ok(port && port > 0, "the bound port is reported");
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(response.status, 200);
    const families = parsePrometheus(await response.text()) as ParsedFamily[];
    const rss = families.find((f) => f.name === "ledge_process_resident_memory_bytes");
    assert.ok(rss && Number(rss.metrics[0]!.value) > 1_000_000, "RSS is reported");
    const missing = await fetch(`http://127.0.0.1:${port}/other`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await component.stop();
  }
});
