/**
 * The escape attempts of issue 19: createOptions a hostile manifest uses to take the host, each
 * with the field the device policy must name and the `[agent.allow]` key that would allow it (or
 * the words that say why nothing can). Variants: letter case (and Go's ſ and Kelvin sign),
 * duplicate keys in a string and in an object, chunks split inside a key, string versus list,
 * symlinks to / and to the state dir, relative and ".." paths, every namespace mode.
 */
import { INSTANCE_LABEL } from "../agent/engine/labels.ts";
import { engineCli, type TestEngine } from "./_engines.ts";
import { fleetManifest, imageModule } from "./_fleet.ts";

/** Host paths the attempts use, made by {@linkcode makeEscapeFixtures}. */
export interface EscapeFixtures {
  stateDir: string;
  /** The one dir `[agent.allow] host_paths` allows. */
  allowed: string;
  /** The engine's API socket. */
  engineSocket: string;
}

/** One attempt: the module's settings (beside `image`) and what the refusal must say. */
export interface EscapeAttempt {
  name: string;
  settings: Record<string, unknown>;
  /** The field path the refusal names (as a regular expression source, anchored by the test). */
  field: RegExp;
  /** The `[agent.allow]` key named, or a pattern of the reason when no key can allow it. */
  why: { key: string } | { reason: RegExp };
}

const CMD = '"Cmd":["/bin/module.sh"]';

/** createOptions text with the module's command and `inner` members. */
function text(inner: string): { createOptions: string } {
  return { createOptions: `{${CMD},${inner}}` };
}

function host(inner: string): { createOptions: string } {
  return text(`"HostConfig":{${inner}}`);
}

const key = (name: string) => ({ key: name });
const reason = (pattern: RegExp) => ({ reason: pattern });
const TWICE = reason(/given twice/);
const UNKNOWN = reason(/not a field ledge passes|only at its default/);
const NEVER = reason(/never mounted/);
const NOT_A_MODE = reason(/not a mode ledge passes/);

/**
 * Makes the dirs and symlinks the attempts point through, under `allowed` (the one dir
 * `[agent.allow] host_paths` allows): a plain dir, and symlinks to /, the state dir and /etc.
 */
export async function makeEscapeFixtures(
  allowed: string,
  stateDir: string,
  engineSocket: string,
): Promise<EscapeFixtures> {
  await Deno.mkdir(`${allowed}/data`, { recursive: true });
  await Deno.symlink("/", `${allowed}/to-root`);
  await Deno.symlink(stateDir, `${allowed}/to-state`);
  await Deno.symlink("/etc", `${allowed}/to-etc`);
  return { stateDir, allowed, engineSocket };
}

function caseAndSpelling(): EscapeAttempt[] {
  return [
    {
      name: "privileged in lower case",
      settings: host('"privileged":true'),
      field: /HostConfig\.Privileged/,
      why: key("privileged"),
    },
    {
      name: "HOSTCONFIG in upper case",
      settings: text('"HOSTCONFIG":{"Privileged":true}'),
      field: /HostConfig\.Privileged/,
      why: key("privileged"),
    },
    {
      name: "Privileged false then privileged true",
      settings: host('"Privileged":false,"privileged":true'),
      field: /HostConfig\.Privileged/,
      why: TWICE,
    },
    {
      name: "Privileged twice, same spelling",
      settings: host('"Privileged":false,"Privileged":true'),
      field: /HostConfig\.Privileged/,
      why: TWICE,
    },
    {
      name: "HostConfig twice in two cases",
      settings: text('"HostConfig":{},"hostconfig":{"Privileged":true}'),
      field: /HostConfig/,
      why: TWICE,
    },
    {
      name: "mounts of / in lower case",
      settings: host('"mounts":[{"Type":"bind","Source":"/","Target":"/host"}]'),
      field: /HostConfig\.Mounts\[0\]\.Source/,
      why: NEVER,
    },
    {
      name: "pidmode host in lower case",
      settings: host('"pidmode":"host"'),
      field: /HostConfig\.PidMode/,
      why: key("host_pid"),
    },
    {
      name: "capadd in lower case",
      settings: host('"capadd":["SYS_ADMIN"]'),
      field: /HostConfig\.CapAdd\[0\]/,
      why: key("cap_add"),
    },
    {
      name: "HoſtConfig with a long s (Go folds it to s)",
      settings: text('"Ho\u017FtConfig":{"Privileged":true}'),
      field: /HostConfig\.Privileged/,
      why: key("privileged"),
    },
    {
      name: "MasKedPaths with a Kelvin sign",
      settings: host('"Mas\u212AedPaths":[]'),
      field: /HostConfig\.MaskedPaths/,
      why: key("unconfined_security"),
    },
    {
      name: "Bindſ of / with a long s",
      settings: host('"Bind\u017F":["/:/host"]'),
      field: /HostConfig\.Binds\[0\]/,
      why: NEVER,
    },
    {
      name: "Privileged at the top level (Docker's deprecated HostConfig fields)",
      settings: text('"Privileged":true'),
      field: /Privileged/,
      why: UNKNOWN,
    },
    {
      name: "Binds at the top level",
      settings: text('"Binds":["/:/host"]'),
      field: /Binds/,
      why: UNKNOWN,
    },
    {
      name: "OCI annotations",
      settings: host('"Annotations":{"run.oci.keep_original_groups":"1"}'),
      field: /HostConfig\.Annotations/,
      why: UNKNOWN,
    },
    {
      name: "ContainerIDFile (a host file)",
      settings: host('"ContainerIDFile":"/etc/cron.d/x"'),
      field: /HostConfig\.ContainerIDFile/,
      why: UNKNOWN,
    },
    {
      name: "VolumeDriver",
      settings: host('"VolumeDriver":"local"'),
      field: /HostConfig\.VolumeDriver/,
      why: UNKNOWN,
    },
    {
      name: "Privileged as a string",
      settings: host('"Privileged":"true"'),
      field: /HostConfig\.Privileged/,
      why: reason(/expected true or false/),
    },
  ];
}

function chunksAndObjects(): EscapeAttempt[] {
  return [
    {
      name: "chunks split inside Privileged",
      settings: { createOptions: `{${CMD},"HostConfig":{"Privi`, createOptions01: 'leged":true}}' },
      field: /HostConfig\.Privileged/,
      why: key("privileged"),
    },
    {
      name: "chunks split inside a lower-case capadd",
      settings: {
        createOptions: `{${CMD},"hostconfig":{"cap`,
        createOptions01: 'add":"SYS_ADMIN"}}',
      },
      field: /HostConfig\.CapAdd\[0\]/,
      why: key("cap_add"),
    },
    {
      name: "chunks that repeat a key across the split",
      settings: {
        createOptions: `{${CMD},"HostConfig":{"Privileged":false,"Pri`,
        createOptions01: 'vileged":true}}',
      },
      field: /HostConfig\.Privileged/,
      why: TWICE,
    },
    {
      name: "object form, two spellings",
      settings: {
        createOptions: {
          Cmd: ["/bin/module.sh"],
          HostConfig: { Privileged: false, privileged: true },
        },
      },
      field: /HostConfig\.Privileged/,
      why: TWICE,
    },
    {
      name: "object form, lower case",
      settings: { createOptions: { Cmd: ["/bin/module.sh"], hostconfig: { privileged: true } } },
      field: /HostConfig\.Privileged/,
      why: key("privileged"),
    },
  ];
}

function capabilities(): EscapeAttempt[] {
  return [
    {
      name: "CapAdd as a string",
      settings: host('"CapAdd":"SYS_ADMIN"'),
      field: /HostConfig\.CapAdd\[0\]/,
      why: key("cap_add"),
    },
    {
      name: "CapAdd ALL",
      settings: host('"CapAdd":["ALL"]'),
      field: /HostConfig\.CapAdd\[0\]/,
      why: key("cap_add"),
    },
    {
      name: "CapAdd cap_sys_ptrace",
      settings: host('"CapAdd":["cap_sys_ptrace"]'),
      field: /HostConfig\.CapAdd\[0\]/,
      why: key("cap_add"),
    },
    {
      name: "CapAdd empty then capAdd",
      settings: host('"CapAdd":[],"capAdd":["NET_ADMIN"]'),
      field: /HostConfig\.CapAdd/,
      why: TWICE,
    },
  ];
}

function hostPaths(f: EscapeFixtures): EscapeAttempt[] {
  const bind = (source: string) => host(`"Binds":[${JSON.stringify(`${source}:/host`)}]`);
  const mount = (source: string, extra = "") =>
    host(`"Mounts":[{"Type":"bind","Source":${JSON.stringify(source)},"Target":"/host"${extra}}]`);
  const B0 = /HostConfig\.Binds\[0\]/;
  const M0 = /HostConfig\.Mounts\[0\]/;
  return [
    { name: "Binds /etc", settings: bind("/etc"), field: B0, why: key("host_paths") },
    { name: "Binds /root", settings: bind("/root"), field: B0, why: key("host_paths") },
    {
      name: "Binds /var/lib/containers (engine storage)",
      settings: bind("/var/lib/containers"),
      field: B0,
      why: key("host_paths"),
    },
    { name: "Binds /", settings: bind("/"), field: B0, why: NEVER },
    { name: "Binds /proc", settings: bind("/proc"), field: B0, why: key("host_paths") },
    { name: "Binds the engine socket", settings: bind(f.engineSocket), field: B0, why: NEVER },
    {
      name: "Binds /var/run/docker.sock",
      settings: bind("/var/run/docker.sock"),
      field: B0,
      why: NEVER,
    },
    {
      name: "Binds /run (holds the engine sockets)",
      settings: bind("/run"),
      field: B0,
      why: NEVER,
    },
    {
      name: "Binds a symlink to / inside an allowed dir",
      settings: bind(`${f.allowed}/to-root`),
      field: B0,
      why: NEVER,
    },
    {
      name: "Binds a symlink to the state dir inside an allowed dir",
      settings: bind(`${f.allowed}/to-state/pki`),
      field: B0,
      why: NEVER,
    },
    {
      name: "Binds a symlink to /etc inside an allowed dir",
      settings: bind(`${f.allowed}/to-etc`),
      field: B0,
      why: key("host_paths"),
    },
    { name: "Binds the state dir", settings: bind(f.stateDir), field: B0, why: NEVER },
    { name: "Binds a relative path", settings: bind("./etc"), field: B0, why: key("host_paths") },
    {
      name: "Binds a parent-relative path",
      settings: bind("../../etc"),
      field: B0,
      why: key("host_paths"),
    },
    {
      name: "Binds .. out of an allowed dir",
      settings: bind(`${f.allowed}/../../etc`),
      field: B0,
      why: key("host_paths"),
    },
    {
      name: "Binds with rshared propagation",
      settings: host(`"Binds":[${JSON.stringify(`${f.allowed}/data:/d:rshared`)}]`),
      field: B0,
      why: reason(/bind option "rshared"/),
    },
    { name: "Mounts bind of /", settings: mount("/"), field: M0, why: NEVER },
    { name: "Mounts bind of /etc", settings: mount("/etc"), field: M0, why: key("host_paths") },
    {
      name: "Mounts bind through a symlink to /",
      settings: mount(`${f.allowed}/to-root`),
      field: M0,
      why: NEVER,
    },
    {
      name: "Mounts of Type BIND",
      settings: host('"Mounts":[{"Type":"BIND","Source":"/","Target":"/host"}]'),
      field: /HostConfig\.Mounts\[0\]\.Type/,
      why: reason(/not a mount type/),
    },
    {
      name: "Mounts volume whose driver binds /etc",
      settings: host(
        '"Mounts":[{"Type":"volume","Source":"v","Target":"/host","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"none","o":"bind","device":"/etc"}}}}]',
      ),
      field: /HostConfig\.Mounts\[0\]\.VolumeOptions\.DriverConfig/,
      why: UNKNOWN,
    },
    {
      name: "Mounts bind with rshared propagation",
      settings: mount(`${f.allowed}/data`, ',"BindOptions":{"Propagation":"rshared"}'),
      field: /HostConfig\.Mounts\[0\]\.BindOptions\.Propagation/,
      why: reason(/reach the host/),
    },
    {
      name: "Devices /dev/mem",
      settings: host(
        '"Devices":[{"PathOnHost":"/dev/mem","PathInContainer":"/dev/mem","CgroupPermissions":"rwm"}]',
      ),
      field: /HostConfig\.Devices\[0\]\.PathOnHost/,
      why: key("devices"),
    },
    {
      name: "DeviceCgroupRules for every device",
      settings: host('"DeviceCgroupRules":["a *:* rwm"]'),
      field: /HostConfig\.DeviceCgroupRules\[0\]/,
      why: key("device_cgroup_rules"),
    },
    {
      name: "DeviceRequests for GPUs",
      settings: host('"DeviceRequests":[{"Count":-1,"Capabilities":[["gpu"]]}]'),
      field: /HostConfig\.DeviceRequests/,
      why: key("gpus"),
    },
    {
      name: "LogConfig writing a host file",
      settings: host('"LogConfig":{"Type":"k8s-file","Config":{"path":"/etc/cron.d/x"}}'),
      field: /HostConfig\.LogConfig\.Config\["path"\]/,
      why: reason(/not a log option/),
    },
  ];
}

function namespaces(): EscapeAttempt[] {
  const mode = (field: string, value: string) =>
    host(`${JSON.stringify(field)}:${JSON.stringify(value)}`);
  const at = (field: string) => new RegExp(`HostConfig\\.${field}`);
  return [
    {
      name: "NetworkMode host",
      settings: mode("NetworkMode", "host"),
      field: at("NetworkMode"),
      why: key("host_network"),
    },
    {
      name: "NetworkMode container:",
      settings: mode("NetworkMode", "container:edgeHub"),
      field: at("NetworkMode"),
      why: key("join_containers"),
    },
    {
      name: "NetworkMode ns: a namespace file",
      settings: mode("NetworkMode", "ns:/proc/1/ns/net"),
      field: at("NetworkMode"),
      why: NOT_A_MODE,
    },
    {
      name: "NetworkMode slirp4netns reaching host loopback",
      settings: mode("NetworkMode", "slirp4netns:allow_host_loopback=true"),
      field: at("NetworkMode"),
      why: NOT_A_MODE,
    },
    {
      name: "PidMode host",
      settings: mode("PidMode", "host"),
      field: at("PidMode"),
      why: key("host_pid"),
    },
    {
      name: "PidMode container:",
      settings: mode("PidMode", "container:edgeHub"),
      field: at("PidMode"),
      why: key("join_containers"),
    },
    {
      name: "PidMode ns:",
      settings: mode("PidMode", "ns:/proc/1/ns/pid"),
      field: at("PidMode"),
      why: NOT_A_MODE,
    },
    {
      name: "IpcMode host",
      settings: mode("IpcMode", "host"),
      field: at("IpcMode"),
      why: key("host_ipc"),
    },
    {
      name: "IpcMode container:",
      settings: mode("IpcMode", "container:edgeHub"),
      field: at("IpcMode"),
      why: key("join_containers"),
    },
    {
      name: "UTSMode host",
      settings: mode("UTSMode", "host"),
      field: at("UTSMode"),
      why: key("host_uts"),
    },
    {
      name: "UTSMode container:",
      settings: mode("UTSMode", "container:edgeHub"),
      field: at("UTSMode"),
      why: key("join_containers"),
    },
    {
      name: "UsernsMode host",
      settings: mode("UsernsMode", "host"),
      field: at("UsernsMode"),
      why: key("host_userns"),
    },
    {
      name: "CgroupnsMode host",
      settings: mode("CgroupnsMode", "host"),
      field: at("CgroupnsMode"),
      why: key("host_cgroupns"),
    },
    {
      name: "Cgroup container:",
      settings: mode("Cgroup", "container:edgeHub"),
      field: at("Cgroup"),
      why: key("join_containers"),
    },
    {
      name: "VolumesFrom another container",
      settings: host('"VolumesFrom":["edgeHub"]'),
      field: at("VolumesFrom"),
      why: key("join_containers"),
    },
    {
      name: "Links to another container",
      settings: host('"Links":["edgeHub:hub"]'),
      field: at("Links"),
      why: key("join_containers"),
    },
    {
      name: "an endpoint on the host network",
      settings: text('"NetworkingConfig":{"EndpointsConfig":{"host":{}}}'),
      field: /NetworkingConfig\.EndpointsConfig\["host"\]/,
      why: reason(/joins/),
    },
  ];
}

function confinement(): EscapeAttempt[] {
  const opt = (value: string) => host(`"SecurityOpt":[${JSON.stringify(value)}]`);
  const S0 = /HostConfig\.SecurityOpt\[0\]/;
  const at = (field: string) => new RegExp(`HostConfig\\.${field}`);
  return [
    {
      name: "seccomp unconfined",
      settings: opt("seccomp=unconfined"),
      field: S0,
      why: key("unconfined_security"),
    },
    {
      name: "seccomp profile from a host file",
      settings: opt("seccomp=/etc/ledge-permissive.json"),
      field: S0,
      why: key("unconfined_security"),
    },
    {
      name: "apparmor unconfined",
      settings: opt("apparmor=unconfined"),
      field: S0,
      why: key("unconfined_security"),
    },
    {
      name: "SELinux disabled",
      settings: opt("label=disable"),
      field: S0,
      why: key("unconfined_security"),
    },
    {
      name: "SELinux super-privileged type",
      settings: opt("label=type:spc_t"),
      field: S0,
      why: key("unconfined_security"),
    },
    {
      name: "systempaths unconfined",
      settings: opt("systempaths=unconfined"),
      field: S0,
      why: key("unconfined_security"),
    },
    {
      name: "Podman unmask=ALL",
      settings: opt("unmask=ALL"),
      field: S0,
      why: key("unconfined_security"),
    },
    {
      name: "MaskedPaths emptied",
      settings: host('"MaskedPaths":[]'),
      field: at("MaskedPaths"),
      why: key("unconfined_security"),
    },
    {
      name: "ReadonlyPaths emptied",
      settings: host('"ReadonlyPaths":[]'),
      field: at("ReadonlyPaths"),
      why: key("unconfined_security"),
    },
    {
      name: "CgroupParent /",
      settings: host('"CgroupParent":"/"'),
      field: at("CgroupParent"),
      why: key("cgroup_parent"),
    },
    {
      name: "OomKillDisable",
      settings: host('"OomKillDisable":true'),
      field: at("OomKillDisable"),
      why: key("oom_kill_disable"),
    },
    {
      name: "OomScoreAdj -1000",
      settings: host('"OomScoreAdj":-1000'),
      field: at("OomScoreAdj"),
      why: key("oom_kill_disable"),
    },
    {
      name: "Sysctls",
      settings: host('"Sysctls":{"kernel.shm_rmid_forced":"1"}'),
      field: at("Sysctls"),
      why: key("sysctls"),
    },
    {
      name: "Ulimits unlimited memlock",
      settings: host('"Ulimits":[{"Name":"memlock","Soft":-1,"Hard":-1}]'),
      field: at("Ulimits"),
      why: key("ulimits"),
    },
    {
      name: "another OCI Runtime",
      settings: host('"Runtime":"crun"'),
      field: at("Runtime"),
      why: key("runtimes"),
    },
  ];
}

/** Every attempt, in a stable order. */
export function escapeAttempts(fixtures: EscapeFixtures): EscapeAttempt[] {
  return [
    ...caseAndSpelling(),
    ...chunksAndObjects(),
    ...capabilities(),
    ...hostPaths(fixtures),
    ...namespaces(),
    ...confinement(),
  ];
}

/** A deployment manifest of `modules` (docker modules of `image`, with these settings), running. */
export function escapeManifest(
  image: string,
  modules: Record<string, Record<string, unknown>>,
): Record<string, unknown> {
  return fleetManifest(
    Object.fromEntries(
      Object.entries(modules).map((
        [name, settings],
      ) => [name, { ...imageModule(image), settings: { image, ...settings } }]),
    ),
    {},
  );
}

/** The names of the containers (any state) of the ledge `instance` on `engine`. */
export async function ownedContainerNames(engine: TestEngine, instance: string): Promise<string[]> {
  const out = await engineCli(engine, [
    "ps",
    "-a",
    "--filter",
    `label=${INSTANCE_LABEL}=${instance}`,
    "--format",
    "{{.Names}}",
  ]);
  return out.split(/\s+/).filter(Boolean).sort();
}

/** How the refusal of `attempt` must read, or what is wrong with `description`. */
export function refusalProblem(attempt: EscapeAttempt, description: string): string | undefined {
  if (!/createOptions denied/.test(description)) return `not refused: ${description}`;
  const field = new RegExp(`(^|[ ;:])${attempt.field.source}`);
  if (!field.test(description)) return `does not name ${attempt.field.source}: ${description}`;
  if ("key" in attempt.why) {
    const named = new RegExp(
      `${attempt.field.source}[^;]*\\(agent\\.allow\\.${attempt.why.key}\\)`,
    );
    if (!named.test(description)) {
      return `does not name agent.allow.${attempt.why.key} for the field: ${description}`;
    }
  } else if (!attempt.why.reason.test(description)) {
    return `does not say ${attempt.why.reason.source}: ${description}`;
  }
  return undefined;
}
