/**
 * Everything under the state dir is the daemon's alone (issue 19 item 6): after a run with
 * traffic — a deployment with a process module, leaf devices (SAS and X.509) and a child edge
 * device, telemetry queued durably, reported properties written — every file is 0600 and every
 * directory 0700, while running and after stopping. The exceptions are by design and listed:
 * the management socket (0660) and each module's socket directory under mnt/ (0755, sockets 0666).
 */
import assert from "node:assert/strict";
import { closeClient, connectIdentity, publishNumbered } from "./_hub_mqtt.ts";
import { sasToken } from "./_hub_sas.ts";
import { startLedge } from "./_ledge.ts";
import { deploymentManifest, shellModule } from "./_manifests.ts";

interface Entry {
  path: string;
  kind: "file" | "dir" | "socket" | "other";
  mode: number;
}

async function walk(root: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  async function visit(dir: string): Promise<void> {
    for await (const item of Deno.readDir(dir)) {
      const path = `${dir}/${item.name}`;
      const info = await Deno.lstat(path).catch(() => undefined);
      if (!info) continue; // gone meanwhile (a temp file, a WAL checkpointed away)
      const kind = info.isFile
        ? "file"
        : info.isDirectory
        ? "dir"
        : info.isSocket
        ? "socket"
        : "other";
      entries.push({ path: path.slice(root.length + 1), kind, mode: info.mode! & 0o777 });
      if (info.isDirectory) await visit(path);
    }
  }
  await visit(root);
  return entries;
}

/** The mode `entry` must have, by the rules in the module doc. */
function expectedMode(entry: Entry): number {
  if (entry.path === "mgmt.sock") return 0o660;
  if (/^mnt\/[^/]+$/.test(entry.path) && entry.kind === "dir") return 0o755;
  if (/^mnt\/[^/]+\/[^/]+\.sock$/.test(entry.path)) return 0o666;
  return entry.kind === "dir" ? 0o700 : 0o600;
}

function violations(entries: Entry[]): string[] {
  return entries.filter((entry) => entry.mode !== expectedMode(entry)).map((entry) =>
    `${entry.path} (${entry.kind}) is ${entry.mode.toString(8)}, expected ${
      expectedMode(entry).toString(8)
    }`
  );
}

Deno.test("every file ledge writes under the state dir is 0600 and every directory 0700, after a run with traffic", async () => {
  const ledge = await startLedge({ extraConfig: `[agent]\nengine = "none"\n` });
  const work = await Deno.makeTempDir({ prefix: "ledge-modes-" });
  let stopped = false;
  try {
    const manifest = deploymentManifest(
      { chatty: shellModule("echo chatty started; while :; do sleep 1; done") },
      { routes: { up: "FROM /messages/* INTO $upstream" }, twins: { chatty: { rate: 1 } } },
    );
    await Deno.writeTextFile(`${work}/deployment.json`, JSON.stringify(manifest));
    const deployed = await ledge.cli(["deploy", `${work}/deployment.json`, "--wait"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    for (
      const args of [
        ["identity", "add-device", "leaf-1"],
        ["identity", "add-device", "cam-1", "--auth", "x509"],
        ["identity", "add-device", "child", "--edge"],
      ]
    ) {
      const added = await ledge.cli(args);
      assert.equal(added.code, 0, added.stderr);
    }

    // Traffic: a leaf device's QoS 1 telemetry queued durably for $upstream, and its reported
    // properties written to the twin store.
    const added = await ledge.cli(["identity", "add-device", "leaf-2"]);
    const key = /SharedAccessKey=([^;\s]+)/.exec(added.stdout)?.[1];
    assert.ok(key, added.stdout);
    const client = await connectIdentity({
      port: ledge.ports.mqtt,
      caPem: await Deno.readTextFile(`${ledge.stateDir}/pki/root_ca.pem`),
      iothubHostname: "localhost",
      deviceId: "leaf-2",
      credentials: {
        kind: "sas",
        token: sasToken({ host: "localhost", deviceId: "leaf-2", key }),
      },
    });
    try {
      const sent = await publishNumbered(client, {
        numbers: Array.from({ length: 50 }, (_, i) => i),
        topic: () => "devices/leaf-2/messages/events/",
        window: 10,
      });
      assert.equal(sent.acked.length, 50);
      await client.subscribeAsync("$iothub/twin/res/#", { qos: 0 });
      const answered = new Promise<string>((resolve) =>
        client.on("message", (topic) => {
          if (topic.startsWith("$iothub/twin/res/")) resolve(topic);
        })
      );
      await client.publishAsync(
        "$iothub/twin/PATCH/properties/reported/?$rid=7",
        JSON.stringify({ firmware: "1.2.3" }),
        { qos: 0 },
      );
      assert.match(await answered, /^\$iothub\/twin\/res\/204\/\?\$rid=7/);
    } finally {
      await closeClient(client);
    }
    const logs = await ledge.cli(["logs", "chatty"]);
    assert.match(logs.stdout, /chatty started/);

    const running = await walk(ledge.stateDir);
    const names = running.map((entry) => entry.path);
    for (const expected of [/queues\.db$/, /twins\.db$/, /-wal$/, /identities\.json$/, /\.log$/]) {
      assert.ok(names.some((name) => expected.test(name)), `${expected} in ${names.join(", ")}`);
    }
    assert.deepEqual(violations(running), [], "while running");

    await ledge.stop();
    stopped = true;
    assert.deepEqual(violations(await walk(ledge.stateDir)), [], "after stopping");
  } finally {
    if (!stopped) await ledge.stop();
    await Deno.remove(work, { recursive: true });
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
});
