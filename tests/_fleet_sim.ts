/**
 * Simulated child edge devices: one process holding many lightweight MQTT clients (the `mqtt`
 * npm client over TLS) that speak the child side of the protocol to a real parent ledge — each
 * child connects as itself and as its `$edgeAgent`, with keys it derives from an enrollment
 * group's key (so it registers itself on first connect), reads its twin, takes desired patches,
 * and reports `lastDesiredVersion`, `lastDesiredStatus` and `deploymentHealth` as a ledge child
 * does. A child can be told to fail a deployment (it then reports a rollback, as a real child's
 * health-gated rollback would). For the fleet tests and `deno task bench` (group fleet), where
 * a thousand real ledges would not fit on the machine.
 */
import { createHmac } from "node:crypto";
import { Buffer } from "node:buffer";
import type { MqttClient } from "./_hub_mqtt.ts";
import { closeClient, connectIdentity } from "./_hub_mqtt.ts";
import { sasToken } from "./_hub_sas.ts";

type Json = Record<string, unknown>;

/** Options of {@linkcode SimulatedFleet.start}. */
export interface SimulatedFleetOptions {
  port: number;
  caPem: string;
  iothubHostname: string;
  /** The enrollment group key the children derive their keys from. */
  groupKey: string;
  count: number;
  /** Device id prefix (ids are prefix + 4 digits). */
  prefix?: string;
  /** Connections opened at once (default 50). */
  concurrency?: number;
  /** The reason a child fails a deployment naming `modules`, or undefined when it runs it. */
  fails?: (deviceId: string, modules: readonly string[]) => string | undefined;
}

function derive(keyBase64: string, data: string): string {
  return createHmac("sha256", Buffer.from(keyBase64, "base64")).update(data).digest("base64");
}

function merge(target: Json, patch: Json): Json {
  const out: Json = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (typeof value === "object" && !Array.isArray(value)) {
      const base = out[key];
      out[key] = merge(
        typeof base === "object" && base !== null ? base as Json : {},
        value as Json,
      );
    } else out[key] = value;
  }
  return out;
}

/** One simulated child. */
export class SimulatedChild {
  readonly deviceId: string;
  readonly key: string;
  device: MqttClient | undefined;
  agent: MqttClient | undefined;
  desired: Json = {};
  /** Modules it runs (what its last good deployment named). */
  modules: string[] = [];
  /** What it reported last. */
  reported: { version: number; code: number } | undefined;
  #rid = 0;
  readonly #fleet: SimulatedFleet;

  constructor(fleet: SimulatedFleet, deviceId: string, key: string) {
    this.#fleet = fleet;
    this.deviceId = deviceId;
    this.key = key;
  }

  /** Connects the device and its `$edgeAgent`, subscribes and reads the twin. */
  async connect(): Promise<void> {
    const { port, caPem, iothubHostname } = this.#fleet.options;
    const connect = (moduleId?: string) => {
      const key = moduleId === undefined ? this.key : derive(this.key, moduleId);
      const token = sasToken({
        host: iothubHostname,
        deviceId: this.deviceId,
        ...(moduleId === undefined ? {} : { moduleId }),
        key,
      });
      return connectIdentity({
        port,
        caPem,
        iothubHostname,
        deviceId: this.deviceId,
        ...(moduleId === undefined ? {} : { moduleId }),
        credentials: { kind: "sas", token },
        timeoutMs: 60_000,
      });
    };
    // The $edgeAgent first: its token registers the device through the enrollment group.
    this.agent = await connect("$edgeAgent");
    this.device = await connect();
    this.agent.on("message", (topic, payload) => this.#onMessage(topic, payload));
    await this.agent.subscribeAsync([
      "$iothub/twin/res/#",
      "$iothub/twin/PATCH/properties/desired/#",
    ], {
      qos: 0,
    });
    await this.agent.publishAsync(`$iothub/twin/GET/?$rid=${++this.#rid}`, "", { qos: 0 });
  }

  /** Closes both connections at once, as a dropped network does. */
  drop(): void {
    for (const client of [this.agent, this.device]) client?.end(true);
    this.agent = this.device = undefined;
  }

  async close(): Promise<void> {
    await Promise.all([this.agent, this.device].map((c) => c ? closeClient(c) : undefined));
    this.agent = this.device = undefined;
  }

  #onMessage(topic: string, payload: Uint8Array): void {
    const text = new TextDecoder().decode(payload);
    if (topic.startsWith("$iothub/twin/res/200/")) {
      const twin = JSON.parse(text) as { desired?: Json };
      this.desired = twin.desired ?? {};
      this.#apply();
    } else if (topic.startsWith("$iothub/twin/PATCH/properties/desired/")) {
      this.desired = merge(this.desired, JSON.parse(text) as Json);
      this.#apply();
    }
  }

  #apply(): void {
    const version = this.desired.$version;
    const modules = Object.keys((this.desired.modules ?? {}) as Json).sort();
    if (typeof version !== "number" || this.desired.schemaVersion === undefined) return;
    if (this.reported?.version === version) return;
    const failure = this.#fleet.options.fails?.(this.deviceId, modules);
    const patch: Json = failure === undefined
      ? {
        lastDesiredVersion: version,
        lastDesiredStatus: { code: 200, description: "" },
        deploymentHealth: { version, state: "healthy" },
        modules: Object.fromEntries(modules.map((m) => [m, { runtimeStatus: "running" }])),
      }
      : {
        lastDesiredVersion: version,
        lastDesiredStatus: { code: 500, description: failure, rolledBackFrom: version },
        deploymentHealth: { version, state: "rolled-back", reason: failure },
      };
    if (failure === undefined) this.modules = modules;
    this.reported = { version, code: failure === undefined ? 200 : 500 };
    this.#fleet.reports++;
    void this.agent?.publishAsync(
      `$iothub/twin/PATCH/properties/reported/?$rid=${++this.#rid}`,
      JSON.stringify(patch),
      { qos: 0 },
    ).catch(() => {});
  }
}

/** Many simulated children. */
export class SimulatedFleet {
  readonly options: SimulatedFleetOptions;
  readonly children: SimulatedChild[];
  /** Reported patches sent so far. */
  reports = 0;

  private constructor(options: SimulatedFleetOptions) {
    this.options = options;
    const prefix = options.prefix ?? "sim-";
    this.children = Array.from({ length: options.count }, (_, i) => {
      const deviceId = `${prefix}${String(i).padStart(4, "0")}`;
      return new SimulatedChild(this, deviceId, derive(options.groupKey, deviceId));
    });
  }

  /** Connects `options.count` children, `concurrency` at a time. */
  static async start(options: SimulatedFleetOptions): Promise<SimulatedFleet> {
    const fleet = new SimulatedFleet(options);
    await fleet.connectAll(options.concurrency ?? 50);
    return fleet;
  }

  /**
   * Connects every child, `concurrency` at once (Infinity: all at once, a reconnect storm);
   * resolves with the connections refused.
   */
  async connectAll(concurrency: number): Promise<string[]> {
    const refused: string[] = [];
    const queue = [...this.children];
    const worker = async () => {
      for (let child = queue.shift(); child; child = queue.shift()) {
        await child.connect().catch((error) =>
          refused.push(`${child!.deviceId}: ${error.message}`)
        );
      }
    };
    const workers = Math.min(
      queue.length,
      Number.isFinite(concurrency) ? concurrency : queue.length,
    );
    await Promise.all(Array.from({ length: workers }, worker));
    return refused;
  }

  /** Drops every connection at once. */
  dropAll(): void {
    for (const child of this.children) child.drop();
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((child) => child.close()));
  }
}
