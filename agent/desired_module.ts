/**
 * One module of a deployment as the agent works with it: the manifest's module validated and
 * normalized (createOptions parsed, env flattened, image tag defaulted) with a hash of
 * everything that needs a new instance when it changes.
 */
import { createHash } from "node:crypto";
import { decodeContainerCreate, type SpecProblem } from "./container_decode.ts";
import type { ContainerCreate } from "./container_schema.ts";
import { CreateOptionsError, readCreateOptions } from "./create_options.ts";
import { type ManifestIssue, modulePath, showValue } from "./manifest_error.ts";
import type {
  ImagePullPolicy,
  ModuleEnv,
  ModuleSpec,
  ModuleStatus,
  RestartPolicy,
} from "./manifest.ts";

/** How a process module runs (`type: "process"`). */
export interface ProcessSettings {
  command: string;
  args: string[];
  /** Working directory; empty means the agent's own. */
  workdir: string;
}

/** One module the deployment wants, normalized. */
export interface DesiredModule {
  name: string;
  type: "docker" | "process";
  version: string;
  status: ModuleStatus;
  restartPolicy: RestartPolicy;
  imagePullPolicy: ImagePullPolicy;
  startupOrder: number;
  env: Record<string, string>;
  /** Image reference with a tag (`:latest` when none was given); empty for process modules. */
  image: string;
  /** The canonical ContainerCreate body decoded from createOptions; `{}` when none. */
  createOptions: ContainerCreate;
  /**
   * What in createOptions ledge will not pass on (unknown or doubly named fields, wrong types):
   * such a module is refused by the policy, alone.
   */
  createOptionsProblems?: SpecProblem[];
  /** Set for process modules. */
  process?: ProcessSettings;
  /** Changes whenever something that needs a new container changes (image, options, env, version). */
  configHash: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Normalizes an image reference: a missing tag means `:latest`. */
export function normalizeImage(image: string): string {
  if (image.includes("@")) return image;
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  return lastSegment.includes(":") ? image : `${image}:latest`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]),
  );
}

/** A stable hash of everything that needs a new container when it changes. */
export function moduleConfigHash(
  module: Omit<DesiredModule, "configHash" | "status" | "restartPolicy" | "startupOrder">,
): string {
  const relevant = {
    type: module.type,
    version: module.version,
    image: module.image,
    createOptions: module.createOptions,
    ...(module.createOptionsProblems?.length
      ? { createOptionsProblems: module.createOptionsProblems }
      : {}),
    env: module.env,
    process: module.process ?? null,
    imagePullPolicy: module.imagePullPolicy,
  };
  return createHash("sha256").update(JSON.stringify(sortKeys(relevant))).digest("hex").slice(0, 16);
}

function flattenEnv(env: ModuleEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, { value }]) => [name, String(value)]));
}

/** Validates and normalizes one module; pushes its problems to `issues`. */
export function normalizeModule(
  name: string,
  spec: ModuleSpec,
  issues: ManifestIssue[],
): DesiredModule | undefined {
  const at = (...rest: PropertyKey[]) => modulePath(name, "settings", ...rest);
  const base = {
    name,
    type: spec.type,
    version: spec.version,
    status: spec.status,
    restartPolicy: spec.restartPolicy,
    imagePullPolicy: spec.imagePullPolicy,
    startupOrder: spec.startupOrder,
    env: flattenEnv(spec.env),
  };
  if (spec.type === "process") {
    const { command, args = [], workdir = "" } = spec.settings;
    if (typeof command !== "string" || command === "") {
      issues.push({
        path: at("command"),
        message: `expected a command, got ${showValue(command)}`,
      });
      return undefined;
    }
    if (!Array.isArray(args) || !args.every((arg) => typeof arg === "string")) {
      issues.push({
        path: at("args"),
        message: `expected an array of strings, got ${showValue(args)}`,
      });
      return undefined;
    }
    if (typeof workdir !== "string") {
      issues.push({ path: at("workdir"), message: `expected a path, got ${showValue(workdir)}` });
      return undefined;
    }
    const partial = { ...base, image: "", createOptions: {}, process: { command, args, workdir } };
    return { ...partial, configHash: moduleConfigHash(partial) };
  }
  const image = spec.settings.image;
  if (typeof image !== "string" || image.trim() === "") {
    issues.push({ path: at("image"), message: `expected an image name, got ${showValue(image)}` });
    return undefined;
  }
  let decoded: ReturnType<typeof decodeContainerCreate>;
  try {
    decoded = decodeContainerCreate(readCreateOptions(spec.settings));
  } catch (error) {
    if (!(error instanceof CreateOptionsError)) throw error;
    issues.push({ path: at(error.key), message: error.message });
    return undefined;
  }
  const partial = {
    ...base,
    image: normalizeImage(image.trim()),
    createOptions: decoded.spec,
    ...(decoded.problems.length > 0 ? { createOptionsProblems: decoded.problems } : {}),
  };
  return { ...partial, configHash: moduleConfigHash(partial) };
}
