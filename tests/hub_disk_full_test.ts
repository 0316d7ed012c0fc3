/**
 * A full disk as a device meets it, with real `ledge run` processes and real MQTT clients: the
 * state dir on a small tmpfs the test mounts, module a sending 16 KiB QoS 1 messages routed to
 * module b, which is offline. The store refuses new messages at its free-space floor (no PUBACK)
 * and loses nothing it acknowledged; b's drain brings new messages back within 10 s without a
 * restart; after kill -9 with the disk filled to the last byte, ledge starts, delivers the
 * backlog and accepts new messages once it is drained. The same for a child's upstream queue
 * while its parent is down.
 */
import assert from "node:assert/strict";
import { type LedgeProcess, portsToKeep, restartablePorts, startLedge } from "./_ledge.ts";
import { registerEdgeChild, startFleetLedge } from "./_fleet.ts";
import {
  closeClient,
  collectDeliveries,
  connectIdentity,
  type Delivery,
  type MqttClient,
  publishNumbered,
} from "./_hub_mqtt.ts";
import { moduleCredentials, waitingModule } from "./_ledge_modules.ts";
import { deploymentManifest } from "./_manifests.ts";
import { serviceTest } from "./_services.ts";
import { fillDisk, mountTmpfs, rootRequirement } from "./_tmpfs.ts";
import { waitFor } from "./_wait.ts";

const MiB = 1024 * 1024;
const DISK_BYTES = 64 * MiB;
const BODY_BYTES = 16 * 1024;
const DEVICE = "test-device";
const HOST = "localhost";
const EXTRA_CONFIG = `[agent]\nengine = "none"\n`;

/** A module's identity and the SAS token and CA its workload socket gave it. */
type Credentials = { deviceId: string; moduleId: string; token: string; caPem: string };

/** The topic of message `n` from `module`'s output "bulk". */
function topicOf(module: Credentials, n: number): string {
  return `devices/${module.deviceId}/modules/${module.moduleId}/messages/events/%24.on=bulk&n=${n}`;
}

function body(n: number): string {
  return `${n}:`.padEnd(BODY_BYTES, "x");
}

function connect(ledge: LedgeProcess, module: Credentials) {
  return connectIdentity({
    port: ledge.ports.mqtt,
    caPem: module.caPem,
    iothubHostname: HOST,
    deviceId: module.deviceId,
    moduleId: module.moduleId,
    credentials: { kind: "sas", token: module.token },
  });
}

async function credentialsOf(ledge: LedgeProcess, deviceId: string, moduleId: string) {
  const { stateDir } = ledge;
  const { token, caPem } = await moduleCredentials(
    { stateDir, deviceId, iothubHostname: HOST, moduleId },
    ledge.cli,
  );
  return { deviceId, moduleId, token, caPem };
}

async function deploy(ledge: LedgeProcess, modules: string[], route: string) {
  const file = `${ledge.stateDir}.deployment.json`;
  const manifest = deploymentManifest(
    Object.fromEntries(modules.map((id) => [id, waitingModule()])),
    { routes: { route } },
  );
  await Deno.writeTextFile(file, JSON.stringify(manifest));
  const deployed = await ledge.cli(["deploy", file]);
  await Deno.remove(file);
  assert.equal(deployed.code, 0, deployed.stderr);
}

/** A ledge on the tmpfs with a→b deployed, and both modules' credentials (taken while there is room). */
async function startOnDisk(stateDir: string) {
  const ledge = await startLedge({ extraConfig: EXTRA_CONFIG, stateDir, logLevel: "info" });
  await deploy(
    ledge,
    ["a", "b"],
    'FROM /messages/modules/a/outputs/bulk INTO BrokeredEndpoint("/modules/b/inputs/in")',
  );
  const a = await credentialsOf(ledge, DEVICE, "a");
  return { ledge, a, b: await credentialsOf(ledge, DEVICE, "b") };
}

/** a sends numbered messages from `from` until the hub refuses one (it closes the connection). */
async function fillUntilRefused(ledge: LedgeProcess, a: Credentials, from: number) {
  const sender = await connect(ledge, a);
  try {
    const numbers = Array.from({ length: 20_000 }, (_, i) => from + i);
    const outcome = await publishNumbered(sender, {
      numbers,
      topic: (n) => topicOf(a, n),
      body,
      window: 10,
    });
    assert.ok(outcome.closed, "the hub must refuse a message once the disk is at its floor");
    return outcome.acked.toSorted((x, y) => x - y);
  } finally {
    await closeClient(sender);
  }
}

/** Resolves once a message from a is acknowledged again, retrying as a sender would. */
async function acceptedAgain(ledge: LedgeProcess, a: Credentials, n: number, timeoutMs: number) {
  await waitFor(`message ${n} acknowledged again`, async () => {
    const sender = await connect(ledge, a);
    try {
      const outcome = await publishNumbered(sender, {
        numbers: [n],
        topic: (m) => topicOf(a, m),
        body,
        window: 1,
      });
      return outcome.acked.length === 1;
    } finally {
      await closeClient(sender);
    }
  }, timeoutMs);
}

function inputsOf(module: Credentials): string {
  return `devices/${module.deviceId}/modules/${module.moduleId}/inputs/#`;
}

function numberOf(delivery: Delivery): number {
  return Number(delivery.body.split(":")[0]);
}

/** Waits until b has received every number of `expected` (duplicates allowed). */
async function receivedAll(deliveries: Delivery[], expected: readonly number[]) {
  await waitFor(`${expected.length} messages at b`, () => {
    const seen = new Set(deliveries.map(numberOf));
    return expected.every((n) => seen.has(n));
  }, 60_000);
}

function refusalLogs(ledge: LedgeProcess): string[] {
  return ledge.logs.filter((line) => line.includes("disk nearly full"));
}

/** The refusals (R) and the recoveries (A, accepting again) the hub logged, in order. */
function episodeLogs(ledge: LedgeProcess): string {
  return ledge.logs.flatMap((line) =>
    line.includes("disk nearly full") ? ["R"] : line.includes("accepting new messages") ? ["A"] : []
  ).join("");
}

serviceTest(
  "on a full disk the hub refuses new messages without PUBACK, and b's drain brings them back within 10 s without a restart",
  [rootRequirement],
  async () => {
    await using disk = await mountTmpfs(DISK_BYTES);
    const { ledge, a, b } = await startOnDisk(disk.path);
    const clients: MqttClient[] = [];
    try {
      const acked = await fillUntilRefused(ledge, a, 1);
      assert.ok(acked.length > 500, `only ${acked.length} acknowledged`);
      assert.equal(refusalLogs(ledge).length, 1, "logged once for the episode");
      // Still refused on a new connection. A checkpoint may have given back room for a few more
      // in between (they must be delivered like the rest); each episode is logged once.
      const retry = await fillUntilRefused(ledge, a, 100_000);
      assert.ok(
        retry.length <= acked.length / 10,
        `${retry.length} more acknowledged at the floor`,
      );
      // Refusing and accepting again alternate, each logged once; a checkpoint may have given
      // room back after the last refusal, so the episodes may end with either.
      assert.match(episodeLogs(ledge), /^R(AR)*A?$/, "logged once per episode");
      const metrics = await fetch(`http://127.0.0.1:${ledge.ports.metrics}/metrics`);
      const text = await metrics.text();
      assert.match(text, /edgehub_messages_dropped_total\{reason="disk_full"\} [1-9]/);

      const receiver = await connect(ledge, b);
      clients.push(receiver);
      const deliveries = await collectDeliveries(receiver, inputsOf(b));
      await receivedAll(deliveries, [...acked, ...retry]);
      await acceptedAgain(ledge, a, 200_000, 10_000);
      await receivedAll(deliveries, [200_000]);
      assert.ok(ledge.logs.some((line) => line.includes("accepting new messages")));
    } finally {
      for (const client of clients) await closeClient(client);
      await ledge.stop("SIGTERM");
      await Deno.remove(`${disk.path}.toml`).catch(() => {});
    }
  },
);

serviceTest(
  "after kill -9 with the disk full to the last byte, ledge starts (and again after SIGTERM), delivers every acknowledged message and accepts new ones once drained",
  [rootRequirement],
  async () => {
    await using disk = await mountTmpfs(DISK_BYTES);
    const started = await startOnDisk(disk.path);
    const { a, b } = started;
    let ledge = started.ledge;
    const clients: MqttClient[] = [];
    try {
      const acked = await fillUntilRefused(ledge, a, 1);
      assert.equal((await ledge.stop("SIGKILL")).signal, "SIGKILL");
      await fillDisk(`${disk.path}/filler`);

      ledge = await startLedge({
        extraConfig: EXTRA_CONFIG,
        stateDir: disk.path,
        logLevel: "info",
      });
      const check = await ledge.cli(["check"]);
      assert.equal(check.code, 1, "a ✘ makes ledge check exit 1");
      assert.match(check.stdout, /✘ disk space for the store: .* the store refuses new messages/);
      assert.match(check.stdout, /→ free disk space on /);
      // A clean stop on the full disk (its checkpoints delete the WALs), and a start again.
      assert.equal((await ledge.stop("SIGTERM")).code, 0);
      ledge = await startLedge({
        extraConfig: EXTRA_CONFIG,
        stateDir: disk.path,
        logLevel: "info",
      });

      const receiver = await connect(ledge, b);
      clients.push(receiver);
      const deliveries = await collectDeliveries(receiver, inputsOf(b));
      await receivedAll(deliveries, acked);
      // The drained queue gives its space back: new messages are acknowledged again.
      await acceptedAgain(ledge, a, 200_000, 10_000);
      await receivedAll(deliveries, [200_000]);
    } finally {
      for (const client of clients) await closeClient(client);
      await ledge.stop("SIGTERM");
      await Deno.remove(`${disk.path}.toml`).catch(() => {});
    }
  },
);

serviceTest(
  "the upstream queue with the parent away: refused at the floor, kill -9 on a full disk, restart, every acknowledged message reaches the parent, new ones accepted once drained",
  [rootRequirement],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-disk-full-upstream-" });
    await using disk = await mountTmpfs(DISK_BYTES);
    const running = new Set<LedgeProcess>();
    try {
      let parent = await startFleetLedge({ deviceId: "parent", ports: restartablePorts() });
      running.add(parent);
      await deploy(
        parent,
        ["b"],
        'FROM /messages/* WHERE $connectionDeviceId = "child" INTO BrokeredEndpoint("/modules/b/inputs/in")',
      );
      const b = await credentialsOf(parent, "parent", "b");
      const link = await registerEdgeChild(parent, "child", dir);
      const parentState = { stateDir: parent.stateDir, ports: portsToKeep(parent) };
      await parent.stop();
      running.delete(parent);

      const childOptions = {
        deviceId: "child",
        upstream: link.snippet,
        stateDir: disk.path,
        ports: restartablePorts(),
      };
      let child = await startFleetLedge(childOptions);
      running.add(child);
      await deploy(child, ["a"], "FROM /messages/modules/a/outputs/bulk INTO $upstream");
      const a = await credentialsOf(child, "child", "a");
      const acked = await fillUntilRefused(child, a, 1);
      assert.ok(acked.length > 500, `only ${acked.length} acknowledged`);
      assert.equal(refusalLogs(child).length, 1, "logged once for the episode");

      await child.stop("SIGKILL");
      running.delete(child);
      await fillDisk(`${disk.path}/filler`);
      child = await startFleetLedge({ ...childOptions, ports: portsToKeep(child) });
      running.add(child);

      parent = await startLedge({
        ...parentState,
        deviceId: "parent",
        extraConfig: `[agent]\nengine = "none"\nbackoff_base_seconds = 1`,
      });
      running.add(parent);
      const receiver = await connect(parent, b);
      const deliveries = await collectDeliveries(receiver, inputsOf(b));
      try {
        await receivedAll(deliveries, acked);
        await acceptedAgain(child, a, 200_000, 30_000);
        await receivedAll(deliveries, [200_000]);
      } finally {
        await closeClient(receiver);
      }
    } finally {
      for (const ledge of running) await ledge.stop();
      await Deno.remove(`${disk.path}.toml`).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
);
