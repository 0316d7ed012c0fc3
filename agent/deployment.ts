/**
 * The agent's one internal view of a deployment: the manifest validated and normalized
 * (createOptions parsed, env flattened, image tags defaulted, a config hash per module).
 */
import { createHash } from "node:crypto";
import { compileRoutes, RouteSyntaxError } from "../routing/mod.ts";
import { CreateOptionsError, readCreateOptions } from "./create_options.ts";
import {
  type EdgeHubDesired,
  type ImagePullPolicy,
  type ModuleEnv,
  ModuleName,
  ModulesContent,
  type ModuleSpec,
  type ModuleStatus,
  type RegistryCredential,
  type RestartPolicy,
  type SystemModuleSpec,
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
  /** The ContainerCreate body from createOptions; `{}` when none. */
  createOptions: Record<string, unknown>;
  /** Set for process modules. */
  process?: ProcessSettings;
  /** Changes whenever something that needs a new container changes (image, options, env, version). */
  configHash: string;
}

/** A deployment accepted by the agent. */
export interface Deployment {
  schemaVersion: string;
  /** `lastDesiredVersion`: the twin's `$version`, or a local counter for `ledge deploy`. */
  version: number;
  runtime: {
    type: string;
    settings: {
      minDockerVersion?: string;
      loggingOptions?: string;
      registryCredentials: Record<string, RegistryCredential>;
    };
  };
  /** `systemModules` as given (edgeAgent, edgeHub): ledge itself, never run as containers. */
  systemModules: Record<string, SystemModuleSpec>;
  /** Modules sorted by startupOrder, then name. */
  modules: DesiredModule[];
  /** `$edgeHub` desired properties, for the hub. */
  edgeHub: EdgeHubDesired | undefined;
  /** Initial desired twins of the modules (`<module>.properties.desired`). */
  moduleTwins: Record<string, Record<string, unknown>>;
  /** The `modulesContent` as given, which is what gets persisted. */
  manifest: Record<string, unknown>;
}

/** A problem with one place of the manifest. */
export interface ManifestIssue {
  /** Where, e.g. `modulesContent.$edgeAgent["properties.desired"].modules.sensor.status`. */
  path: string;
  message: string;
}

/**
 * A rejected manifest. `code` is what `lastDesiredStatus.code` reports: 400 format error,
 * 412 unsupported schema version, 417 empty configuration.
 */
export class ManifestError extends Error {
  override name = "ManifestError";
  readonly code: 400 | 412 | 417;
  readonly issues: ManifestIssue[];
  constructor(code: 400 | 412 | 417, issues: ManifestIssue[]) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(
      `Cannot accept the deployment: ${
        first ? `${first.path}: ${first.message}` : "invalid"
      }${more}`,
    );
    this.code = code;
    this.issues = issues;
  }
}

const PREFIX = ["modulesContent"] as const;

/** Formats a key path the way a reader finds it in the JSON: `a.b["c.d"].e`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(String(key))) {
      out += out === "" ? String(key) : `.${String(key)}`;
    } else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || "(top level)";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Finds `modulesContent` in the accepted wrappers: `{content:{modulesContent}}`, `{modulesContent}`, or bare. */
function unwrap(raw: unknown): unknown {
  if (isObject(raw) && isObject(raw.content) && "modulesContent" in raw.content) {
    return raw.content.modulesContent;
  }
  if (isObject(raw) && "modulesContent" in raw) return raw.modulesContent;
  return raw;
}

function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function checkSchemaVersion(
  value: unknown,
  accepted: RegExp,
  range: string,
  path: PropertyKey[],
): void {
  if (typeof value !== "string") return; // the schema reports type errors with code 400
  if (!accepted.test(value)) {
    throw new ManifestError(412, [{
      path: formatJsonPath([...PREFIX, ...path]),
      message: `unsupported schema version ${JSON.stringify(value)}; expected ${range}`,
    }]);
  }
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
    env: module.env,
    process: module.process ?? null,
    imagePullPolicy: module.imagePullPolicy,
  };
  return createHash("sha256").update(JSON.stringify(sortKeys(relevant))).digest("hex").slice(0, 16);
}

function flattenEnv(env: ModuleEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, { value }]) => [name, String(value)]));
}

function normalizeModule(
  name: string,
  spec: ModuleSpec,
  issues: ManifestIssue[],
): DesiredModule | undefined {
  const at = (...rest: PropertyKey[]) =>
    formatJsonPath([
      ...PREFIX,
      "$edgeAgent",
      "properties.desired",
      "modules",
      name,
      "settings",
      ...rest,
    ]);
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
  let createOptions: Record<string, unknown>;
  try {
    createOptions = readCreateOptions(spec.settings);
  } catch (error) {
    if (!(error instanceof CreateOptionsError)) throw error;
    issues.push({ path: at(error.key), message: error.message });
    return undefined;
  }
  const partial = { ...base, image: normalizeImage(image.trim()), createOptions };
  return { ...partial, configHash: moduleConfigHash(partial) };
}

/** Options for {@linkcode parseDeployment}. */
export interface ParseDeploymentOptions {
  /** Version to report when the manifest carries no `$version`. */
  version?: number;
}

/**
 * The `$edgeHub` routes compiled as the hub will compile them, so a route that would never work
 * rejects the whole deployment (400) instead of being dropped by the hub after acceptance.
 */
function routeIssues(hub: EdgeHubDesired): ManifestIssue[] {
  try {
    compileRoutes(hub.routes, { schemaVersion: hub.schemaVersion });
    return [];
  } catch (error) {
    const routeName = error instanceof RouteSyntaxError ? error.routeName : undefined;
    const path = [...PREFIX, "$edgeHub", "properties.desired", "routes"];
    return [{
      path: formatJsonPath(routeName === undefined ? path : [...path, routeName]),
      message: (error as Error).message.replace(/^routes\.[^:]+: /, ""),
    }];
  }
}

/**
 * Validates a deployment manifest and normalizes it. Accepts `{modulesContent}`,
 * `{content:{modulesContent}}` (as `az iot edge set-modules` takes it) or the bare
 * `modulesContent` object.
 *
 * @throws {ManifestError} with 417 when empty, 412 for an unsupported schemaVersion, and 400
 * naming the JSON path of every other problem.
 * @example
 * ```ts
 * const deployment = parseDeployment(JSON.parse(await Deno.readTextFile("deployment.json")));
 * deployment.modules.map((m) => m.name);
 * ```
 */
export function parseDeployment(
  raw: unknown,
  options: ParseDeploymentOptions = {},
): Deployment {
  const content = unwrap(raw);
  if (
    content === undefined || content === null || content === "" ||
    (isObject(content) && Object.keys(content).length === 0)
  ) {
    throw new ManifestError(417, [{ path: "modulesContent", message: "empty configuration" }]);
  }
  if (!isObject(content)) {
    throw new ManifestError(400, [{
      path: "modulesContent",
      message: `expected an object, got ${showValue(content)}`,
    }]);
  }
  const agent = isObject(content.$edgeAgent) ? content.$edgeAgent["properties.desired"] : undefined;
  if (agent === undefined) {
    throw new ManifestError(417, [{
      path: 'modulesContent.$edgeAgent["properties.desired"]',
      message: "empty configuration: no $edgeAgent desired properties",
    }]);
  }
  if (isObject(agent)) {
    checkSchemaVersion(agent.schemaVersion, /^1\.[01](\.0)?$/, '"1.0" or "1.1"', [
      "$edgeAgent",
      "properties.desired",
      "schemaVersion",
    ]);
  }
  const hub = isObject(content.$edgeHub) ? content.$edgeHub["properties.desired"] : undefined;
  if (isObject(hub)) {
    checkSchemaVersion(hub.schemaVersion, /^1\.[0-3](\.0)?$/, '"1.0" to "1.3"', [
      "$edgeHub",
      "properties.desired",
      "schemaVersion",
    ]);
  }
  const parsed = ModulesContent.safeParse(content, { reportInput: true });
  if (!parsed.success) {
    throw new ManifestError(
      400,
      parsed.error.issues.map((issue) => ({
        path: formatJsonPath([...PREFIX, ...issue.path]),
        message: "input" in issue && issue.code !== "invalid_union"
          ? `${issue.message}, got ${showValue(issue.input)}`
          : issue.message,
      })),
    );
  }
  const { $edgeAgent, $edgeHub, ...twins } = parsed.data;
  const agentDesired = $edgeAgent["properties.desired"];
  const issues: ManifestIssue[] = [];
  const modules: DesiredModule[] = [];
  for (const [name, spec] of Object.entries(agentDesired.modules)) {
    const named = ModuleName.safeParse(name);
    if (!named.success) {
      issues.push({
        path: formatJsonPath([...PREFIX, "$edgeAgent", "properties.desired", "modules", name]),
        message: `${named.error.issues[0]?.message ?? "invalid module name"}, got ${
          showValue(name)
        }`,
      });
      continue;
    }
    const module = normalizeModule(name, spec, issues);
    if (module) modules.push(module);
  }
  const hubDesired = $edgeHub?.["properties.desired"];
  if (hubDesired) issues.push(...routeIssues(hubDesired));
  if (issues.length > 0) throw new ManifestError(400, issues);
  modules.sort((a, b) => a.startupOrder - b.startupOrder || a.name.localeCompare(b.name));
  const desiredVersion = agentDesired.$version;
  const version = typeof desiredVersion === "number"
    ? desiredVersion
    : Number.isFinite(Number(desiredVersion))
    ? Number(desiredVersion)
    : options.version ?? 1;
  const settings = agentDesired.runtime.settings;
  return {
    schemaVersion: agentDesired.schemaVersion,
    version,
    runtime: {
      type: agentDesired.runtime.type,
      settings: {
        ...(settings.minDockerVersion === undefined
          ? {}
          : { minDockerVersion: settings.minDockerVersion }),
        ...(settings.loggingOptions === undefined
          ? {}
          : { loggingOptions: settings.loggingOptions }),
        registryCredentials: settings.registryCredentials,
      },
    },
    systemModules: agentDesired.systemModules,
    modules,
    edgeHub: hubDesired,
    moduleTwins: Object.fromEntries(
      Object.entries(twins).map(([name, twin]) => [name, twin["properties.desired"]]),
    ),
    manifest: content,
  };
}
