/**
 * The device policy on a canonical ContainerCreate body: every HostConfig field has a rule here
 * ({@linkcode HOST_CONFIG_RULES}); a field that widens what a container may do on the host is
 * denied unless the device's own `[agent.allow]` allows it, and the denial names the field and
 * that key. Host paths (Binds, Mounts, Devices) are judged by `host_paths.ts`, which needs the
 * file system.
 */
import type { Config } from "../core/config.ts";
import type { SpecProblem } from "./container_decode.ts";
import { ContainerCreate, type HostConfig } from "./container_schema.ts";

/** The `[agent.allow]` section. */
export type AllowConfig = Config["agent"]["allow"];

/** An `[agent.allow]` key. */
export type AllowKey = Exclude<keyof AllowConfig, "process_modules_from_upstream">;

/** What a rule sees. */
export interface RuleContext {
  allow: AllowConfig;
  /** The network the container joins when it names none (`[agent] network`). */
  network: string;
  problems: SpecProblem[];
}

/** "zero": taken only at its default and never passed on (see container_schema.ts). */
type Rule =
  | "accepted"
  | "host-paths"
  | "zero"
  | ((host: HostConfig, context: RuleContext) => void);

function deny(context: RuleContext, path: string, message: string, allow?: AllowKey): void {
  context.problems.push({ path, message, ...(allow ? { allow } : {}) });
}

function flag(field: "Privileged" | "OomKillDisable", key: AllowKey): Rule {
  return (host, context) => {
    if (host[field] === true && !context.allow[key]) {
      deny(context, `HostConfig.${field}`, "denied by the device policy", key);
    }
  };
}

function nonEmpty(field: keyof HostConfig, key: AllowKey, what: string): Rule {
  return (host, context) => {
    const value = host[field];
    const present = Array.isArray(value) ? value.length > 0 : Object.keys(value ?? {}).length > 0;
    if (present && !context.allow[key]) {
      deny(context, `HostConfig.${field}`, `denied by the device policy: ${what}`, key);
    }
  };
}

/** Capability names as the engines normalise them: upper case, without `CAP_`. */
export function capabilityName(cap: string): string {
  return cap.toUpperCase().replace(/^CAP_/, "");
}

function capAdd(host: HostConfig, context: RuleContext): void {
  const allowed = new Set(context.allow.cap_add.map(capabilityName));
  (host.CapAdd ?? []).forEach((cap, i) => {
    const path = `HostConfig.CapAdd[${i}]`;
    if (!/^(CAP_)?[A-Z0-9_]+$/i.test(cap)) {
      deny(context, path, `${JSON.stringify(cap)} is not a capability name`);
    } else if (!allowed.has("ALL") && !allowed.has(capabilityName(cap))) {
      deny(
        context,
        path,
        `adding ${JSON.stringify(cap)} is denied by the device policy`,
        "cap_add",
      );
    }
  });
}

/** A name an engine reads as a network, volume or container name, nothing special. */
export const PLAIN_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Mode words that mean more than a name to Docker or Podman, in any case. */
const MODE_WORDS = new Set(["host", "container", "ns", "private", "slirp4netns", "pasta"]);

type ModeField = "NetworkMode" | "PidMode" | "IpcMode" | "UTSMode" | "UsernsMode" | "CgroupnsMode";

function namespaceMode(field: ModeField, hostKey: AllowKey, plain: readonly string[]): Rule {
  return (host, context) => {
    const value = host[field];
    if (value === undefined || plain.includes(value)) return;
    const path = `HostConfig.${field}`;
    if (value === "host") {
      if (!context.allow[hostKey]) {
        deny(
          context,
          path,
          `"host" (the host's namespace) is denied by the device policy`,
          hostKey,
        );
      }
    } else if (value.startsWith("container:")) {
      if (!context.allow.join_containers) {
        deny(
          context,
          path,
          `${JSON.stringify(value)} (another container's namespace) is denied by the device policy`,
          "join_containers",
        );
      }
    } else if (
      field !== "NetworkMode" || !PLAIN_NAME.test(value) || MODE_WORDS.has(value.toLowerCase())
    ) {
      deny(context, path, `${JSON.stringify(value)} is not a mode ledge passes to the engine`);
    }
  };
}

function cgroup(host: HostConfig, context: RuleContext): void {
  const value = host.Cgroup;
  if (value === undefined || value === "") return;
  if (value.startsWith("container:") && context.allow.join_containers) return;
  deny(
    context,
    "HostConfig.Cgroup",
    `${JSON.stringify(value)} (another container's cgroup) is denied by the device policy`,
    "join_containers",
  );
}

const PLAIN_SECURITY_OPT = /^no-new-privileges([:=](true|false))?$/;

function securityOpt(host: HostConfig, context: RuleContext): void {
  (host.SecurityOpt ?? []).forEach((option, i) => {
    if (PLAIN_SECURITY_OPT.test(option) || context.allow.unconfined_security) return;
    deny(
      context,
      `HostConfig.SecurityOpt[${i}]`,
      `${
        JSON.stringify(option)
      } (a seccomp, AppArmor or SELinux profile of the manifest's choosing) is denied by the device policy`,
      "unconfined_security",
    );
  });
}

function systemPaths(field: "MaskedPaths" | "ReadonlyPaths"): Rule {
  return (host, context) => {
    if (host[field] === undefined || context.allow.unconfined_security) return;
    deny(
      context,
      `HostConfig.${field}`,
      "replacing the engine's protected /proc and /sys paths is denied by the device policy",
      "unconfined_security",
    );
  };
}

function deviceCgroupRules(host: HostConfig, context: RuleContext): void {
  const allowed = new Set(context.allow.device_cgroup_rules.map((rule) => rule.trim()));
  (host.DeviceCgroupRules ?? []).forEach((rule, i) => {
    if (allowed.has(rule.trim())) return;
    deny(
      context,
      `HostConfig.DeviceCgroupRules[${i}]`,
      `${JSON.stringify(rule)} (access to host devices) is denied by the device policy`,
      "device_cgroup_rules",
    );
  });
}

function runtime(host: HostConfig, context: RuleContext): void {
  const value = host.Runtime;
  if (value === undefined || value === "" || context.allow.runtimes.includes(value)) return;
  deny(
    context,
    "HostConfig.Runtime",
    `the OCI runtime ${JSON.stringify(value)} is denied by the device policy`,
    "runtimes",
  );
}

function oomScoreAdj(host: HostConfig, context: RuleContext): void {
  if ((host.OomScoreAdj ?? 0) >= 0 || context.allow.oom_kill_disable) return;
  deny(
    context,
    "HostConfig.OomScoreAdj",
    "a negative value (sparing the container from the OOM killer at the host's expense) is denied by the device policy",
    "oom_kill_disable",
  );
}

function cgroupParent(host: HostConfig, context: RuleContext): void {
  if ((host.CgroupParent ?? "") === "" || context.allow.cgroup_parent) return;
  deny(
    context,
    "HostConfig.CgroupParent",
    "placing the container outside the engine's cgroup is denied by the device policy",
    "cgroup_parent",
  );
}

/** Log drivers that keep the log with the engine; others send it elsewhere or read host paths. */
const LOG_TYPES = new Set(["", "json-file", "local", "journald", "k8s-file", "none"]);
const LOG_OPTIONS = new Set([
  "max-size",
  "max-file",
  "compress",
  "mode",
  "max-buffer-size",
  "tag",
  "labels",
  "env",
]);

function logConfig(host: HostConfig, context: RuleContext): void {
  const { Type = "", Config = {} } = host.LogConfig ?? {};
  if (!LOG_TYPES.has(Type)) {
    deny(
      context,
      "HostConfig.LogConfig.Type",
      `the log driver ${JSON.stringify(Type)} is not one ledge passes on (${
        [...LOG_TYPES].filter(Boolean).join(", ")
      })`,
    );
  }
  for (const option of Object.keys(Config)) {
    if (LOG_OPTIONS.has(option)) continue;
    deny(
      context,
      `HostConfig.LogConfig.Config[${JSON.stringify(option)}]`,
      `not a log option ledge passes on (${
        [...LOG_OPTIONS].join(", ")
      }); Podman's "path" would write a host file`,
    );
  }
}

type HostFields = typeof ContainerCreate.struct.HostConfig.struct;
type ZeroField = {
  [F in keyof HostFields]: HostFields[F] extends "zero" ? F : never;
}[keyof HostFields];

/** The fields taken only at their defaults (the schema says which). */
const ZERO_RULES = Object.fromEntries(
  Object.entries(ContainerCreate.struct.HostConfig.struct).flatMap(([field, kind]) =>
    kind === "zero" ? [[field, "zero"]] : []
  ),
) as Record<ZeroField, Rule>;

/** Every HostConfig field and how the policy treats it. */
export const HOST_CONFIG_RULES: Readonly<Record<keyof HostConfig, Rule>> = {
  Binds: "host-paths",
  Mounts: "host-paths",
  Devices: "host-paths",
  LogConfig: logConfig,
  NetworkMode: namespaceMode("NetworkMode", "host_network", ["", "default", "bridge", "none"]),
  PortBindings: "accepted",
  // ledge restarts modules itself; the body always says "no".
  RestartPolicy: "accepted",
  VolumesFrom: nonEmpty("VolumesFrom", "join_containers", "another container's volumes"),
  CapAdd: capAdd,
  CapDrop: "accepted",
  CgroupnsMode: namespaceMode("CgroupnsMode", "host_cgroupns", ["", "private"]),
  Dns: "accepted",
  DnsOptions: "accepted",
  DnsSearch: "accepted",
  ExtraHosts: "accepted",
  GroupAdd: "accepted",
  IpcMode: namespaceMode("IpcMode", "host_ipc", ["", "private", "shareable", "none"]),
  Cgroup: cgroup,
  Links: nonEmpty("Links", "join_containers", "another container's environment and address"),
  OomScoreAdj: oomScoreAdj,
  PidMode: namespaceMode("PidMode", "host_pid", ["", "private"]),
  Privileged: flag("Privileged", "privileged"),
  PublishAllPorts: "accepted",
  ReadonlyRootfs: "accepted",
  SecurityOpt: securityOpt,
  Tmpfs: "accepted",
  UTSMode: namespaceMode("UTSMode", "host_uts", ["", "private"]),
  UsernsMode: namespaceMode("UsernsMode", "host_userns", ["", "private"]),
  ShmSize: "accepted",
  Sysctls: nonEmpty("Sysctls", "sysctls", "kernel parameters"),
  Runtime: runtime,
  Init: "accepted",
  MaskedPaths: systemPaths("MaskedPaths"),
  ReadonlyPaths: systemPaths("ReadonlyPaths"),
  CpuShares: "accepted",
  Memory: "accepted",
  NanoCpus: "accepted",
  CgroupParent: cgroupParent,
  BlkioWeight: "accepted",
  CpuPeriod: "accepted",
  CpuQuota: "accepted",
  CpusetCpus: "accepted",
  CpusetMems: "accepted",
  DeviceCgroupRules: deviceCgroupRules,
  DeviceRequests: nonEmpty("DeviceRequests", "gpus", "GPUs and other device requests"),
  KernelMemory: "accepted",
  KernelMemoryTCP: "accepted",
  MemoryReservation: "accepted",
  MemorySwap: "accepted",
  MemorySwappiness: "accepted",
  OomKillDisable: flag("OomKillDisable", "oom_kill_disable"),
  PidsLimit: "accepted",
  Ulimits: nonEmpty("Ulimits", "ulimits", "resource limits beyond the engine's defaults"),
  CpuCount: "accepted",
  CpuPercent: "accepted",
  ...ZERO_RULES,
};

/** The network a container joins: its own NetworkMode, else the configured one. */
export function effectiveNetwork(spec: ContainerCreate, network: string): string {
  const mode = spec.HostConfig?.NetworkMode ?? "";
  return mode === "" || mode === "default" ? network : mode;
}

function networkingConfig(spec: ContainerCreate, context: RuleContext): void {
  const network = effectiveNetwork(spec, context.network);
  for (const [name, endpoint] of Object.entries(spec.NetworkingConfig?.EndpointsConfig ?? {})) {
    const path = `NetworkingConfig.EndpointsConfig[${JSON.stringify(name)}]`;
    if (name !== network) {
      deny(
        context,
        path,
        `the container joins ${JSON.stringify(network)} only (HostConfig.NetworkMode)`,
      );
    }
    if ((endpoint.Links ?? []).length > 0 && !context.allow.join_containers) {
      deny(
        context,
        `${path}.Links`,
        "denied by the device policy: another container's environment and address",
        "join_containers",
      );
    }
  }
}

/**
 * Judges everything but host paths.
 *
 * @returns the denied fields, each with the `[agent.allow]` key that would allow it, if any.
 * @example
 * ```ts
 * judgeContainer({ HostConfig: { Privileged: true } }, { allow, network: "azure-iot-edge" });
 * // [{ path: "HostConfig.Privileged", message: "denied by the device policy", allow: "privileged" }]
 * ```
 */
export function judgeContainer(
  spec: ContainerCreate,
  options: { allow: AllowConfig; network: string },
): SpecProblem[] {
  const context: RuleContext = { ...options, problems: [] };
  const host = spec.HostConfig ?? {};
  for (const field of Object.keys(host) as (keyof HostConfig)[]) {
    const rule = HOST_CONFIG_RULES[field];
    if (typeof rule === "function") rule(host, context);
  }
  networkingConfig(spec, context);
  return context.problems;
}
