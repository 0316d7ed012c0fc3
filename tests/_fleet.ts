/**
 * Helpers of the nested-fleet tests: ledge processes registered as each other's children with
 * `ledge identity add-device --edge`, manifests of SDK process modules, and polling.
 */
import { type LedgeProcess, startLedge } from "./_ledge.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SDK_MODULES = `${ROOT}tests/sdk/node_modules`;
const PORTS_PRELOAD = `${ROOT}tests/sdk/_ports.cjs`;
const FLEET_MODULE = `${ROOT}tests/_fleet_module.cjs`;

/** A process module running tests/_fleet_module.cjs against the hub on `mqttPort`. */
export function fleetModule(
  options: {
    mqttPort: number;
    send?: number;
    out?: string;
    version?: string;
    /** `output:count,…` sent once (see tests/_fleet_module.cjs), with its marker file. */
    plan?: { spec: string; once: string; concurrency: number };
  },
): Record<string, unknown> {
  const env: Record<string, { value: string }> = {
    NODE_PATH: { value: SDK_MODULES },
    LEDGE_TEST_MQTT_PORT: { value: String(options.mqttPort) },
  };
  if (options.send !== undefined) env.FLEET_SEND = { value: String(options.send) };
  if (options.out !== undefined) env.FLEET_OUT = { value: options.out };
  if (options.plan !== undefined) {
    env.FLEET_PLAN = { value: options.plan.spec };
    env.FLEET_ONCE = { value: options.plan.once };
    env.FLEET_CONCURRENCY = { value: String(options.plan.concurrency) };
  }
  return {
    version: options.version ?? "1.0",
    type: "process",
    status: "running",
    restartPolicy: "always",
    env,
    settings: { command: "node", args: ["--require", PORTS_PRELOAD, FLEET_MODULE], workdir: "/" },
  };
}

/** A docker module of `image` (never run where these manifests go: simulated children, unit tests). */
export function imageModule(image: string): Record<string, unknown> {
  return {
    version: "1.0",
    type: "docker",
    status: "running",
    restartPolicy: "always",
    settings: { image, createOptions: "{}" },
  };
}

/** A deployment manifest with `modules`, `routes` and optional module twins. */
export function fleetManifest(
  modules: Record<string, Record<string, unknown>>,
  routes: Record<string, unknown>,
  twins: Record<string, Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    modulesContent: {
      $edgeAgent: {
        "properties.desired": {
          schemaVersion: "1.1",
          runtime: { type: "docker", settings: { registryCredentials: {} } },
          systemModules: {
            edgeAgent: { type: "docker", settings: { image: "ledge", createOptions: "{}" } },
            edgeHub: {
              type: "docker",
              status: "running",
              restartPolicy: "always",
              settings: { image: "ledge", createOptions: "{}" },
            },
          },
          modules,
        },
      },
      $edgeHub: { "properties.desired": { schemaVersion: "1.1", routes } },
      ...Object.fromEntries(
        Object.entries(twins).map(([name, desired]) => [name, { "properties.desired": desired }]),
      ),
    },
  };
}

/** The `[upstream]` snippet `add-device --edge` printed, and what it holds. */
export interface EdgeRegistration {
  snippet: string;
  key: string;
  caFile: string;
}

/** Registers `childId` as a child edge device of `parent` with the CLI; CA bundle in `dir`. */
export async function registerEdgeChild(
  parent: LedgeProcess,
  childId: string,
  dir: string,
): Promise<EdgeRegistration> {
  const caFile = `${dir}/${childId}-parent-ca.pem`;
  const result = await parent.cli([
    "identity",
    "add-device",
    childId,
    "--edge",
    "--ca-out",
    caFile,
  ]);
  if (result.code !== 0) {
    throw new Error(`add-device --edge ${childId} failed (${result.code}): ${result.stderr}`);
  }
  const key = /shared_access_key = "([^"]+)"/.exec(result.stdout)?.[1];
  if (!key) throw new Error(`no shared_access_key in:\n${result.stdout}`);
  return { snippet: result.stdout, key, caFile };
}

/** Options of {@linkcode startFleetLedge}. */
export interface FleetLedgeOptions {
  deviceId: string;
  /** The `[upstream]` snippet of its registration at its parent; none for the root. */
  upstream?: string;
  /** Extra `[upstream]` keys (appended after the snippet). */
  upstreamExtra?: string;
  allowProcessFromUpstream?: boolean;
  /** Extra `[agent]` keys, e.g. `rollback_after_seconds = 6`. */
  agent?: string;
  stateDir?: string;
  ports?: LedgeProcess["ports"];
  extraConfig?: string;
}

/** Starts a ledge of the fleet: no container engine, fast reconnects. */
export function startFleetLedge(options: FleetLedgeOptions): Promise<LedgeProcess> {
  const lines = [`[agent]\nengine = "none"\nbackoff_base_seconds = 1\n${options.agent ?? ""}`];
  if (options.allowProcessFromUpstream) {
    lines.push(`[agent.allow]\nprocess_modules_from_upstream = true`);
  }
  if (options.upstream !== undefined) {
    lines.push(options.upstream, "reconnect_max_seconds = 2", options.upstreamExtra ?? "");
  }
  lines.push(options.extraConfig ?? "");
  return startLedge({
    deviceId: options.deviceId,
    extraConfig: lines.join("\n"),
    ...(options.stateDir === undefined ? {} : { stateDir: options.stateDir }),
    ...(options.ports === undefined ? {} : { ports: options.ports }),
  });
}

/** Writes `manifest` to a file in `dir` and runs `ledge deploy [--device id]` on `ledge`. */
export async function deployWith(
  ledge: LedgeProcess,
  manifest: unknown,
  options: { dir: string; device?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = `${options.dir}/manifest-${crypto.randomUUID()}.json`;
  await Deno.writeTextFile(file, JSON.stringify(manifest));
  return await ledge.cli([
    "deploy",
    file,
    ...(options.device === undefined ? [] : ["--device", options.device]),
  ]);
}

/** Reads the JSON lines of a file; none when it does not exist yet. */
export async function jsonLines(path: string): Promise<Record<string, unknown>[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}

/** `ledge list --device <id> --json` on `ledge`, or undefined when it fails. */
export async function listDevice(
  ledge: LedgeProcess,
  deviceId: string,
): Promise<
  | {
    rows: { name: string; status: string; description: string; config: string }[];
    lastDesiredStatus?: { code: number; description: string };
    lastDesiredVersion?: number;
  }
  | undefined
> {
  const result = await ledge.cli(["list", "--device", deviceId, "--json"]);
  if (result.code !== 0) return undefined;
  return JSON.parse(result.stdout);
}
