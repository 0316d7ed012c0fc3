/**
 * The createOptions policy: what a manifest may ask of the engine. Options that let a container
 * escape (Privileged, CapAdd, host bind mounts of `/`, `/proc`, `/sys`, `/dev`, engine sockets
 * or the state dir, Devices, host namespaces, unconfined security, Sysctls) are denied unless the
 * device's own config allows them (`[agent.allow]`, which no manifest can change).
 */
import type { Config } from "../core/config.ts";

/** The `[agent.allow]` section. */
export type CreateOptionsAllow = Config["agent"]["allow"];

/** What the policy protects besides the fixed system paths. */
export interface PolicyContext {
  allow: CreateOptionsAllow;
  /** ledge's state dir: keys and every module's sockets live there. */
  stateDir: string;
  /** Engine API sockets on this host (their directories count too). */
  engineSockets: readonly string[];
}

/** Engine sockets denied by default, whatever the engine in use. */
export const KNOWN_ENGINE_SOCKETS = [
  "/var/run/docker.sock",
  "/run/docker.sock",
  "/run/podman/podman.sock",
  "/var/run/podman/podman.sock",
  "/run/containerd/containerd.sock",
  "/var/run/containerd/containerd.sock",
] as const;

const SYSTEM_TREES = ["/proc", "/sys", "/dev"];

/** Resolves `.`, `..` and repeated or trailing slashes of an absolute path. */
export function normalizeHostPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

function isWithin(path: string, tree: string): boolean {
  return tree === "/" || path === tree || path.startsWith(tree + "/");
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}

function hostPathsOf(hostConfig: Record<string, unknown>): { path: string; where: string }[] {
  const out: { path: string; where: string }[] = [];
  const binds = Array.isArray(hostConfig.Binds) ? hostConfig.Binds : [];
  binds.forEach((bind, i) => {
    if (typeof bind !== "string") return;
    const source = bind.split(":")[0] ?? "";
    if (source.startsWith("/")) out.push({ path: source, where: `HostConfig.Binds[${i}]` });
  });
  const mounts = Array.isArray(hostConfig.Mounts) ? hostConfig.Mounts : [];
  mounts.forEach((mount, i) => {
    const m = record(mount);
    if (m.Type === "bind" && typeof m.Source === "string") {
      out.push({ path: m.Source, where: `HostConfig.Mounts[${i}].Source` });
    }
  });
  return out;
}

function pathAllowed(path: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => isWithin(path, normalizeHostPath(entry)));
}

function sensitiveReason(path: string, context: PolicyContext): string | undefined {
  if (path === "/") return "the host's root file system";
  const tree = SYSTEM_TREES.find((t) => isWithin(path, t));
  if (tree) return `the host's ${tree}`;
  const sockets = [...KNOWN_ENGINE_SOCKETS, ...context.engineSockets].map(normalizeHostPath);
  const socket = sockets.find((s) => isWithin(s, path));
  if (socket) return `the engine socket ${socket}`;
  const state = normalizeHostPath(context.stateDir);
  if (isWithin(path, state) || isWithin(state, path)) return `ledge's state dir ${state}`;
  return undefined;
}

const UNCONFINED =
  /^(seccomp[=:]unconfined|apparmor[=:]unconfined|label[=:]disable|systempaths[=:]unconfined)$/i;

/**
 * Checks a module's createOptions against the policy.
 *
 * @returns one line per denied option, naming the field and the `[agent.allow]` key that would
 * allow it; empty when the options are allowed.
 * @example
 * ```ts
 * checkCreateOptions({ HostConfig: { Privileged: true } }, context);
 * // ["HostConfig.Privileged: denied by the device policy (agent.allow.privileged)"]
 * ```
 */
export function checkCreateOptions(
  createOptions: Record<string, unknown>,
  context: PolicyContext,
): string[] {
  const { allow } = context;
  const host = record(createOptions.HostConfig);
  const denied: string[] = [];
  const deny = (field: string, key: string, why = "") =>
    denied.push(`${field}: denied by the device policy${why} (agent.allow.${key})`);

  if (host.Privileged === true && !allow.privileged) deny("HostConfig.Privileged", "privileged");
  const capAdd = Array.isArray(host.CapAdd) ? host.CapAdd : [];
  const allowedCaps = new Set(allow.cap_add.map((c) => c.toUpperCase().replace(/^CAP_/, "")));
  for (const cap of capAdd) {
    const name = String(cap).toUpperCase().replace(/^CAP_/, "");
    if (!allowedCaps.has(name) && !allowedCaps.has("ALL")) {
      deny(`HostConfig.CapAdd ${JSON.stringify(cap)}`, "cap_add");
    }
  }
  for (const { path, where } of hostPathsOf(host)) {
    const normalized = normalizeHostPath(path);
    const reason = sensitiveReason(normalized, context);
    if (reason && !pathAllowed(normalized, allow.host_paths)) {
      deny(`${where} ${JSON.stringify(path)}`, "host_paths", `: it exposes ${reason}`);
    }
  }
  const devices = ["Devices", "DeviceCgroupRules", "DeviceRequests"].filter((key) =>
    Array.isArray(host[key]) && (host[key] as unknown[]).length > 0
  );
  if (devices.length > 0 && !allow.devices) {
    for (const key of devices) deny(`HostConfig.${key}`, "devices");
  }
  const modes = [
    ["NetworkMode", "host_network"],
    ["PidMode", "host_pid"],
    ["IpcMode", "host_ipc"],
    ["UsernsMode", "host_userns"],
  ] as const;
  for (const [field, key] of modes) {
    if (typeof host[field] === "string" && (host[field] as string).toLowerCase() === "host") {
      if (!allow[key]) deny(`HostConfig.${field} "host"`, key);
    }
  }
  const securityOpt = Array.isArray(host.SecurityOpt) ? host.SecurityOpt : [];
  for (const option of securityOpt) {
    if (
      typeof option === "string" && UNCONFINED.test(option.trim()) && !allow.unconfined_security
    ) {
      deny(`HostConfig.SecurityOpt ${JSON.stringify(option)}`, "unconfined_security");
    }
  }
  if (Object.keys(record(host.Sysctls)).length > 0 && !allow.sysctls) {
    deny("HostConfig.Sysctls", "sysctls");
  }
  return denied;
}
