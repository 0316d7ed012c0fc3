/**
 * A seeded, bounded property test of the device policy: random createOptions (fields in random
 * letter case, Go's ſ and Kelvin sign, repeated keys, unknown fields, Docker's top-level HostConfig
 * fields, widening and harmless values, host paths through symlinks) under a random
 * `[agent.allow]`. Whatever the policy accepts is serialised to the engine body, and that body is
 * read back as an engine reads it (names case-insensitively, the last of two wins, Docker's
 * deprecated top-level HostConfig fields honoured): every widening field must then be at its
 * default unless the device allows it.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded_random.ts";
import { parseConfigText } from "../core/config_load.ts";
import { admitContainer, policyContext } from "../agent/admission.ts";
import { capabilityName } from "../agent/container_policy.ts";
import { decodeContainerCreate } from "../agent/container_decode.ts";
import { readCreateOptions } from "../agent/create_options.ts";
import type { DesiredModule } from "../agent/deployment.ts";
import { buildContainerBody } from "../agent/engine/container_body.ts";
import { isWithin } from "../agent/host_paths.ts";

const CASES = 3000;

class Gen {
  constructor(readonly random: () => number) {}
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
  /** A spelling the engine reads as `name`. */
  spell(name: string): string {
    const roll = this.random();
    if (roll < 0.6) return name;
    if (roll < 0.75) return name.toLowerCase();
    if (roll < 0.85) return name.toUpperCase();
    return [...name].map((c) =>
      c === "s" && this.chance(0.5)
        ? "\u017F"
        : c === "k" && this.chance(0.5)
        ? "\u212A"
        : this.chance(0.5)
        ? c.toUpperCase()
        : c.toLowerCase()
    ).join("");
  }
}

/** Host field → values to try, harmless and widening. */
function hostValues(paths: { allowed: string; stateDir: string }): Record<string, unknown[]> {
  const { allowed, stateDir } = paths;
  return {
    Privileged: [true, false],
    CapAdd: ["SYS_ADMIN", ["NET_ADMIN"], ["cap_net_admin"], ["ALL"], [], "sys_time"],
    CapDrop: [["ALL"]],
    NetworkMode: ["host", "container:hub", "ns:/proc/1/ns/net", "azure-iot-edge", "none", "Host"],
    PidMode: ["host", "container:hub", "", "private"],
    IpcMode: ["host", "container:hub", "private", "shareable"],
    UTSMode: ["host", "container:x"],
    UsernsMode: ["host", "keep-id"],
    CgroupnsMode: ["host", "private"],
    Cgroup: ["container:hub"],
    VolumesFrom: [["hub"], []],
    Links: [["hub:hub"]],
    Binds: [
      ["/:/h"],
      ["/etc:/e"],
      [`${allowed}/data:/d`],
      [`${allowed}/to-root:/r`],
      [`${allowed}/to-state:/s`],
      [`${allowed}/data:/d:rshared`],
      ["vol:/v"],
      ["./x:/x"],
      [`${stateDir}:/s`],
    ],
    Mounts: [
      [{ Type: "bind", Source: "/", Target: "/h" }],
      [{ Type: "bind", Source: `${allowed}/data`, Target: "/d" }],
      [{ Type: "volume", Source: "v", Target: "/v" }],
      [{ type: "bind", source: `${allowed}/to-root`, target: "/r" }],
    ],
    Devices: [[{ PathOnHost: "/dev/null", PathInContainer: "/dev/n" }], [{
      PathOnHost: "/dev/mem",
      PathInContainer: "/dev/m",
    }]],
    DeviceCgroupRules: [["c 1:3 rwm"], ["a *:* rwm"]],
    DeviceRequests: [[{ Count: -1, Capabilities: [["gpu"]] }]],
    SecurityOpt: [["no-new-privileges"], ["seccomp=unconfined"], ["apparmor=unconfined"], [
      "label=disable",
    ]],
    MaskedPaths: [[]],
    ReadonlyPaths: [[]],
    Sysctls: [{ "net.ipv4.ip_forward": "1" }, {}],
    CgroupParent: ["/", ""],
    OomKillDisable: [true, false],
    OomScoreAdj: [-1000, 500],
    Ulimits: [[{ Name: "memlock", Soft: -1, Hard: -1 }]],
    Runtime: ["crun", "runc"],
    Memory: [268435456],
    PortBindings: [{ "80/tcp": [{ HostPort: "8080" }] }],
    LogConfig: [{ Type: "json-file", Config: { "max-size": "1m" } }, {
      Type: "k8s-file",
      Config: { path: "/etc/x" },
    }],
    Annotations: [{ a: "b" }],
  };
}

function randomAllow(g: Gen, defaults: Record<string, unknown>, allowed: string) {
  const allow: Record<string, unknown> = { ...defaults, host_paths: [allowed] };
  for (const [key, value] of Object.entries(defaults)) {
    if (typeof value === "boolean") allow[key] = g.chance(0.25);
  }
  if (g.chance(0.3)) allow.cap_add = [g.pick(["NET_ADMIN", "SYS_ADMIN", "ALL"])];
  if (g.chance(0.3)) allow.devices = ["/dev/null"];
  if (g.chance(0.3)) allow.device_cgroup_rules = ["c 1:3 rwm"];
  if (g.chance(0.3)) allow.runtimes = ["crun"];
  return allow as ReturnType<typeof parseConfigText>["agent"]["allow"];
}

function member(g: Gen, name: string, value: unknown): string {
  return `${JSON.stringify(g.spell(name))}:${JSON.stringify(value)}`;
}

function randomOptions(g: Gen, values: Record<string, unknown[]>): string {
  const fields = Object.keys(values);
  const host: string[] = [];
  for (let n = Math.floor(g.random() * 4); n > 0; n--) {
    const field = g.pick(fields);
    host.push(member(g, field, g.pick(values[field]!)));
    if (g.chance(0.1)) host.push(member(g, field, g.pick(values[field]!)));
  }
  const top = [`"Cmd":["run"]`, `${JSON.stringify(g.spell("HostConfig"))}:{${host.join(",")}}`];
  if (g.chance(0.1)) {
    const field = g.pick(fields);
    top.push(member(g, field, g.pick(values[field]!)));
  }
  if (g.chance(0.05)) top.push(`${JSON.stringify(g.spell("HostConfig"))}:{"Privileged":true}`);
  if (g.chance(0.1)) {
    top.push(
      member(g, "NetworkingConfig", {
        EndpointsConfig: { [g.pick(["host", "azure-iot-edge"])]: {} },
      }),
    );
  }
  return `{${top.join(",")}}`;
}

/** Go's encoding/json into a struct: names compared case-insensitively, the last one wins. */
function goField(object: Record<string, unknown>, name: string): unknown {
  let found: unknown;
  for (const [key, value] of Object.entries(object)) {
    if (key.toUpperCase().toLowerCase() === name.toLowerCase()) found = value;
  }
  return found;
}

/** The HostConfig as Docker 20.10 reads it, top-level deprecated fields included. */
function engineHostConfig(body: Record<string, unknown>): Record<string, unknown> {
  const inner = goField(body, "HostConfig") as Record<string, unknown> | undefined;
  return inner ?? body;
}

interface Checked {
  allow: ReturnType<typeof randomAllow>;
  allowedRoot: string;
  socketDir: string;
}

function widenings(host: Record<string, unknown>, c: Checked): string[] {
  const { allow } = c;
  const out: string[] = [];
  const field = (name: string) => goField(host, name);
  const list = (name: string) => (field(name) as unknown[] | undefined) ?? [];
  if (field("Privileged") === true && !allow.privileged) out.push("Privileged");
  const caps = new Set(allow.cap_add.map(capabilityName));
  for (const cap of list("CapAdd") as string[]) {
    if (!caps.has("ALL") && !caps.has(capabilityName(cap))) out.push(`CapAdd ${cap}`);
  }
  const modes: [string, keyof typeof allow][] = [
    ["NetworkMode", "host_network"],
    ["PidMode", "host_pid"],
    ["IpcMode", "host_ipc"],
    ["UTSMode", "host_uts"],
    ["UsernsMode", "host_userns"],
    ["CgroupnsMode", "host_cgroupns"],
  ];
  for (const [name, key] of modes) {
    const value = String(field(name) ?? "");
    if (value.toLowerCase() === "host" && !allow[key]) out.push(`${name} host`);
    if (value.startsWith("container:") && !allow.join_containers) out.push(`${name} container`);
    if (value.startsWith("ns:")) out.push(`${name} ns`);
  }
  if (String(field("Cgroup") ?? "") !== "" && !allow.join_containers) out.push("Cgroup");
  for (const name of ["VolumesFrom", "Links"]) {
    if (list(name).length > 0 && !allow.join_containers) out.push(name);
  }
  for (const opt of list("SecurityOpt") as string[]) {
    if (!/^no-new-privileges/.test(opt) && !allow.unconfined_security) {
      out.push(`SecurityOpt ${opt}`);
    }
  }
  for (const name of ["MaskedPaths", "ReadonlyPaths"]) {
    if (field(name) !== undefined && !allow.unconfined_security) out.push(name);
  }
  if (Object.keys(field("Sysctls") ?? {}).length > 0 && !allow.sysctls) out.push("Sysctls");
  if (String(field("CgroupParent") ?? "") !== "" && !allow.cgroup_parent) out.push("CgroupParent");
  if (field("OomKillDisable") === true && !allow.oom_kill_disable) out.push("OomKillDisable");
  if (Number(field("OomScoreAdj") ?? 0) < 0 && !allow.oom_kill_disable) out.push("OomScoreAdj");
  if (list("Ulimits").length > 0 && !allow.ulimits) out.push("Ulimits");
  const runtime = String(field("Runtime") ?? "");
  if (runtime !== "" && !allow.runtimes.includes(runtime)) out.push("Runtime");
  if (list("DeviceRequests").length > 0 && !allow.gpus) out.push("DeviceRequests");
  for (const rule of list("DeviceCgroupRules") as string[]) {
    if (!allow.device_cgroup_rules.includes(rule)) out.push(`DeviceCgroupRules ${rule}`);
  }
  for (const device of list("Devices") as Record<string, string>[]) {
    if (!allow.devices.includes(device.PathOnHost!)) out.push(`Devices ${device.PathOnHost}`);
  }
  for (const bind of list("Binds") as string[]) {
    const source = bind.split(":")[0]!;
    if (!source.startsWith("/") || source === c.socketDir) continue;
    if (!isWithin(source, c.allowedRoot)) out.push(`Binds ${bind}`);
  }
  for (const mount of list("Mounts") as Record<string, unknown>[]) {
    if (goField(mount, "Type") !== "bind") continue;
    const source = String(goField(mount, "Source"));
    if (!isWithin(source, c.allowedRoot)) out.push(`Mounts ${source}`);
  }
  if (goField(host, "Annotations") !== undefined) out.push("Annotations");
  return out;
}

Deno.test("any createOptions the policy accepts reach the engine with widening fields at their defaults unless allowed (3,000 seeded cases)", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "ledge-policy-prop-" }));
  const stateDir = `${root}/state`;
  const allowed = `${root}/allowed`;
  await Deno.mkdir(`${stateDir}/mnt/m`, { recursive: true });
  await Deno.mkdir(`${allowed}/data`, { recursive: true });
  await Deno.symlink("/", `${allowed}/to-root`);
  await Deno.symlink(stateDir, `${allowed}/to-state`);
  const config = parseConfigText(`[state]\ndir = "${stateDir}"`, {
    uid: 1000,
    hostname: "test",
    env: {},
  });
  const g = new Gen(seededRandom(1919));
  const values = hostValues({ allowed, stateDir });
  const socketDir = `${stateDir}/mnt/m`;
  let accepted = 0;
  let withWidening = 0;
  try {
    for (let i = 0; i < CASES; i++) {
      const allow = randomAllow(g, config.agent.allow, allowed);
      const text = randomOptions(g, values);
      const decoded = decodeContainerCreate(readCreateOptions({ createOptions: text }));
      const module: DesiredModule = {
        name: "m",
        type: "docker",
        version: "1",
        status: "running",
        restartPolicy: "always",
        imagePullPolicy: "never",
        startupOrder: 0,
        env: {},
        image: "x:1",
        createOptions: decoded.spec,
        ...(decoded.problems.length > 0 ? { createOptionsProblems: decoded.problems } : {}),
        configHash: "h",
      };
      const policy = { ...policyContext(config, stateDir, undefined), allow };
      const container = await admitContainer(module, policy).catch(() => undefined);
      if (!container) continue;
      accepted++;
      const body = buildContainerBody({
        module,
        container,
        env: {},
        socketDir,
        network: "azure-iot-edge",
        hubHostname: "gw",
      }, { labels: {} });
      const engineView = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
      const host = engineHostConfig(engineView);
      const wrong = widenings(host, { allow, allowedRoot: allowed, socketDir });
      assert.deepEqual(wrong, [], `${text}\nallow ${JSON.stringify(allow)}`);
      for (const key of Object.keys(engineView)) {
        assert.ok(!/^(privileged|binds|capadd|pidmode)$/i.test(key), `top-level ${key}: ${text}`);
      }
      const denyAll = { ...config.agent.allow, host_paths: [] };
      if (widenings(host, { allow: denyAll, allowedRoot: "/nonexistent", socketDir }).length > 0) {
        withWidening++;
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  console.log(
    `${CASES} cases: ${accepted} accepted, ${withWidening} of them with an allowed widening`,
  );
  assert.ok(accepted >= CASES / 10, `only ${accepted} accepted`);
  assert.ok(withWidening >= 20, `only ${withWidening} accepted with a widening the device allows`);
});
