/**
 * Metrics of a real daemon: scraped after traffic, the counters moved by the right amounts, and
 * the text parses with an independent Prometheus parser.
 */
import assert from "node:assert/strict";
import parsePrometheus from "npm:parse-prometheus-text-format@1.1.1";
import mqtt from "mqtt";
import { sasToken } from "./_hub_sas.ts";
import { startLedge } from "./_ledge.ts";

interface Family {
  name: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}

async function scrape(port: number): Promise<Family[]> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  return parsePrometheus(await response.text()) as Family[];
}

function value(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  assert.ok(family, `no family ${name}`);
  const sample = family.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
  );
  return sample ? Number(sample.value) : 0;
}

Deno.test("a running ledge serves hub, agent, certificate and process metrics", async () => {
  const ledge = await startLedge({ extraConfig: '[agent]\nengine = "none"\n' });
  try {
    const families = await scrape(ledge.ports.metrics);
    for (
      const name of [
        "edgehub_messages_received_total",
        "edgehub_messages_dropped_total",
        "edgehub_connected_clients",
        "edgehub_client_connect_failed_total",
        "ledge_store_syncs_total",
        "ledge_store_slow_disk_total",
        "ledge_store_sync_duration_seconds",
        "ledge_certificate_expiry_days",
        "ledge_process_resident_memory_bytes",
        "ledge_event_loop_lag_seconds",
      ]
    ) {
      assert.ok(families.some((f) => f.name === name), `no ${name}`);
    }
    assert.equal(value(families, "edgehub_connected_clients"), 0);

    // Traffic: 2 refused connections, then a leaf device sends 5 messages that no route takes.
    const added = await ledge.cli(["identity", "add-device", "sensor-1"]);
    assert.equal(added.code, 0, added.stderr);
    const key = added.stdout.match(/SharedAccessKey=([^;\s]+)/)?.[1];
    assert.ok(key, added.stdout);
    const ca = await Deno.readTextFile(`${ledge.stateDir}/pki/root_ca.pem`);
    const connect = (password: string) =>
      mqtt.connectAsync(`mqtts://localhost:${ledge.ports.mqtt}`, {
        clientId: "sensor-1",
        username: "localhost/sensor-1/?api-version=2021-04-12",
        password,
        ca,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        connect(sasToken({ host: "localhost", deviceId: "sensor-1", key: btoa("wrong") })),
      );
    }
    const client = await connect(sasToken({ host: "localhost", deviceId: "sensor-1", key }));
    try {
      for (let i = 0; i < 5; i++) {
        await client.publishAsync(`devices/sensor-1/messages/events/n=${i}`, "{}", { qos: 1 });
      }
      const after = await scrape(ledge.ports.metrics);
      assert.equal(value(after, "edgehub_connected_clients"), 1);
      assert.equal(
        value(after, "edgehub_client_connect_failed_total", { reason: "not_authorized" }) -
          value(families, "edgehub_client_connect_failed_total", { reason: "not_authorized" }),
        2,
      );
      const received = after.find((f) => f.name === "edgehub_messages_received_total")!.metrics
        .filter((m) => m.labels?.id?.includes("sensor-1")).reduce(
          (sum, m) => sum + Number(m.value),
          0,
        );
      assert.equal(received, 5);
      assert.equal(
        value(after, "edgehub_messages_dropped_total", { reason: "no_route" }) -
          value(families, "edgehub_messages_dropped_total", { reason: "no_route" }),
        5,
      );
    } finally {
      await client.endAsync();
    }

    const rootDays = value(families, "ledge_certificate_expiry_days", { kind: "root-ca" });
    assert.ok(rootDays > 3000, `root CA days left: ${rootDays}`);
  } finally {
    await ledge.stop();
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
});
