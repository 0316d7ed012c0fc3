/**
 * Host paths in a ContainerCreate body (Binds, Mounts of type bind, Devices) by allow-list: a
 * path is resolved as the engine will resolve it (symlinks followed, at the moment of create) and
 * must then lie under `[agent.allow] host_paths` (`devices` for Devices). ledge's state dir, the
 * engine sockets and every parent of them are never bound, whatever the allow-list says. The body
 * passed on carries the resolved paths, so the engine mounts what was judged.
 */
import type { SpecProblem } from "./container_decode.ts";
import { type AllowConfig, PLAIN_NAME } from "./container_policy.ts";
import type { ContainerCreate, HostConfig, Mount } from "./container_schema.ts";

/** What host paths are judged against. */
export interface HostPathPolicy {
  allow: AllowConfig;
  /** ledge's state dir: keys, identities and every module's sockets. */
  stateDir: string;
  /** Engine API sockets on this host. */
  engineSockets: readonly string[];
}

/** Bind options that neither widen a mount nor propagate mounts back to the host. */
const BIND_OPTIONS = new Set([
  "ro",
  "rw",
  "z",
  "Z",
  "nocopy",
  "private",
  "rprivate",
  "slave",
  "rslave",
  "noexec",
  "nosuid",
  "nodev",
  "consistent",
  "cached",
  "delegated",
]);
const PROPAGATIONS = new Set(["", "private", "rprivate", "slave", "rslave"]);

/** Whether `path` is `tree` or lies under it (both resolved, absolute). */
export function isWithin(path: string, tree: string): boolean {
  return tree === "/" || path === tree || path.startsWith(tree + "/");
}

/** A host path as the engine will open it, or why it is refused. */
export type Resolved = { path: string } | { refused: string };

async function realPath(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Resolves an absolute host path: symlinks followed; a part that does not exist yet (Docker
 * creates a missing bind source) is appended to its deepest existing parent, resolved.
 */
export async function resolveHostPath(path: string): Promise<Resolved> {
  if (!path.startsWith("/")) return { refused: "not an absolute path" };
  if (path.includes("\0")) return { refused: "a NUL character" };
  const parts = path.split("/").filter((part) => part !== "");
  if (parts.some((part) => part === "." || part === "..")) {
    return { refused: '"." and ".." are refused in host paths' };
  }
  try {
    for (let keep = parts.length; keep >= 0; keep--) {
      const found = await realPath("/" + parts.slice(0, keep).join("/"));
      if (found === undefined) continue;
      if (keep < parts.length) {
        const next = `${found === "/" ? "" : found}/${parts[keep]}`;
        const dangling = await Deno.lstat(next).then(() => true, () => false);
        if (dangling) return { refused: `${next} is a symlink to nothing` };
      }
      const rest = parts.slice(keep);
      return { path: rest.length === 0 ? found : [found === "/" ? "" : found, ...rest].join("/") };
    }
    return { refused: "cannot be resolved" };
  } catch (error) {
    return { refused: `cannot be resolved: ${error instanceof Error ? error.message : error}` };
  }
}

async function resolvedAll(paths: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const path of paths) {
    if (!path.startsWith("/")) continue;
    out.add("/" + path.split("/").filter(Boolean).join("/"));
    const resolved = await resolveHostPath(path);
    if ("path" in resolved) out.add(resolved.path);
  }
  return [...out];
}

class HostPathJudge {
  readonly problems: SpecProblem[] = [];
  constructor(
    readonly roots: { host_paths: string[]; devices: string[] },
    readonly protectedPaths: { path: string; what: string }[],
  ) {}

  static async create(policy: HostPathPolicy): Promise<HostPathJudge> {
    const protectedPaths = [
      ...(await resolvedAll([policy.stateDir])).map((path) => ({
        path,
        what: "ledge's state dir",
      })),
      ...(await resolvedAll(policy.engineSockets)).map((path) => ({
        path,
        what: "a container engine's API socket",
      })),
    ];
    return new HostPathJudge({
      host_paths: await resolvedAll(policy.allow.host_paths),
      devices: await resolvedAll(policy.allow.devices),
    }, protectedPaths);
  }

  /** The resolved path when `source` may be bound, else undefined (and a problem noted). */
  async judge(
    where: string,
    source: string,
    key: "host_paths" | "devices",
  ): Promise<string | undefined> {
    const resolved = await resolveHostPath(source);
    const shown = JSON.stringify(source);
    if ("refused" in resolved) {
      this.problems.push({
        path: where,
        message: `host path ${shown}: ${resolved.refused}`,
        allow: key,
      });
      return undefined;
    }
    const path = resolved.path;
    const via = path === source ? shown : `${shown} (resolves to ${path})`;
    const guarded = this.protectedPaths.find((p) =>
      isWithin(path, p.path) || isWithin(p.path, path)
    );
    if (guarded) {
      this.problems.push({
        path: where,
        message:
          `host path ${via} exposes ${guarded.what} ${guarded.path}: never mounted, whatever agent.allow.${key} says`,
      });
      return undefined;
    }
    if (!this.roots[key].some((root) => isWithin(path, root))) {
      this.problems.push({
        path: where,
        message: `host path ${via} is not allowed by the device policy`,
        allow: key,
      });
      return undefined;
    }
    return path;
  }

  async bind(where: string, bind: string): Promise<string> {
    const [source = "", target = "", options, ...extra] = bind.split(":");
    if (source === "" || !target.startsWith("/") || extra.length > 0) {
      this.problems.push({
        path: where,
        message: `expected "source:/target[:options]", got ${JSON.stringify(bind)}`,
      });
      return bind;
    }
    for (const option of options === undefined ? [] : options.split(",")) {
      if (BIND_OPTIONS.has(option)) continue;
      this.problems.push({
        path: where,
        message: `bind option ${JSON.stringify(option)} is not one ledge passes on (${
          [...BIND_OPTIONS].join(", ")
        })`,
      });
    }
    if (PLAIN_NAME.test(source)) return bind; // a named volume
    const resolved = await this.judge(where, source, "host_paths");
    return [resolved ?? source, target, ...(options === undefined ? [] : [options])].join(":");
  }

  async mount(where: string, mount: Mount): Promise<Mount> {
    const type = mount.Type ?? "";
    const source = mount.Source ?? "";
    if (type === "volume") {
      if (source !== "" && !PLAIN_NAME.test(source)) {
        this.problems.push({
          path: `${where}.Source`,
          message: `expected a volume name, got ${JSON.stringify(source)}`,
        });
      }
      return mount;
    }
    if (type === "tmpfs") {
      if (source !== "") {
        this.problems.push({ path: `${where}.Source`, message: "a tmpfs mount has no source" });
      }
      return mount;
    }
    if (type !== "bind") {
      this.problems.push({
        path: `${where}.Type`,
        message: `${
          JSON.stringify(type)
        } is not a mount type ledge passes on (bind, volume, tmpfs)`,
      });
      return mount;
    }
    const propagation = mount.BindOptions?.Propagation ?? "";
    if (!PROPAGATIONS.has(propagation)) {
      this.problems.push({
        path: `${where}.BindOptions.Propagation`,
        message: `${JSON.stringify(propagation)} would let mounts reach the host; one of ${
          [...PROPAGATIONS].filter(Boolean).join(", ")
        }`,
      });
    }
    const resolved = await this.judge(`${where}.Source`, source, "host_paths");
    return { ...mount, Source: resolved ?? source };
  }
}

/**
 * Judges the host paths of `spec`.
 *
 * @returns the problems, and `spec` with every host path replaced by the path it resolves to.
 */
export async function judgeHostPaths(
  spec: ContainerCreate,
  policy: HostPathPolicy,
): Promise<{ problems: SpecProblem[]; spec: ContainerCreate }> {
  const host = spec.HostConfig;
  if (!host) return { problems: [], spec };
  const judge = await HostPathJudge.create(policy);
  const resolved: HostConfig = { ...host };
  if (host.Binds) {
    resolved.Binds = [];
    for (const [i, bind] of host.Binds.entries()) {
      resolved.Binds.push(await judge.bind(`HostConfig.Binds[${i}]`, bind));
    }
  }
  if (host.Mounts) {
    resolved.Mounts = [];
    for (const [i, mount] of host.Mounts.entries()) {
      resolved.Mounts.push(await judge.mount(`HostConfig.Mounts[${i}]`, mount));
    }
  }
  if (host.Devices) {
    resolved.Devices = [];
    for (const [i, device] of host.Devices.entries()) {
      const where = `HostConfig.Devices[${i}].PathOnHost`;
      const path = await judge.judge(where, device.PathOnHost ?? "", "devices");
      resolved.Devices.push({ ...device, PathOnHost: path ?? device.PathOnHost ?? "" });
    }
  }
  return { problems: judge.problems, spec: { ...spec, HostConfig: resolved } };
}
