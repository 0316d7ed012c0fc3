/**
 * The agent's one internal view of a deployment: the manifest validated and normalized (each
 * module by desired_module.ts, the routes compiled as the hub will compile them).
 */
import { compileRoutes, RouteSyntaxError } from "../routing/mod.ts";
import { type DesiredModule, normalizeModule } from "./desired_module.ts";
import { formatJsonPath, ManifestError, type ManifestIssue, showValue } from "./manifest_error.ts";
import { withUpstreamAddresses, withUpstreamImages } from "./upstream_image.ts";
import {
  type EdgeHubDesired,
  ModuleName,
  ModulesContent,
  type RegistryCredential,
  type SystemModuleSpec,
} from "./manifest.ts";

export type { DesiredModule, ProcessSettings } from "./desired_module.ts";
export { moduleConfigHash, normalizeImage } from "./desired_module.ts";
export { formatJsonPath, ManifestError, type ManifestIssue } from "./manifest_error.ts";

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
      /** ledge's version the device should run (self-update), when the deployment says. */
      ledgeVersion?: string;
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

const PREFIX = ["modulesContent"] as const;

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

/**
 * The `modulesContent` of `raw`, checked for emptiness (417), shape (400) and schema versions
 * (412) before the schema reads it.
 */
function readContent(raw: unknown): Record<string, unknown> {
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
  return content;
}

/** The schema's reading of `content`; 400 naming every issue's path. */
function parseModulesContent(content: Record<string, unknown>): ModulesContent {
  const parsed = ModulesContent.safeParse(content, { reportInput: true });
  if (parsed.success) return parsed.data;
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

/** The modules, normalized and in startup order; problems go to `issues`. */
function normalizeModules(
  specs: ModulesContent["$edgeAgent"]["properties.desired"]["modules"],
  issues: ManifestIssue[],
): DesiredModule[] {
  const modules: DesiredModule[] = [];
  for (const [name, spec] of Object.entries(specs)) {
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
  return modules.sort((a, b) => a.startupOrder - b.startupOrder || a.name.localeCompare(b.name));
}

function desiredVersion(given: number | string | undefined, fallback: number): number {
  if (typeof given === "number") return given;
  return Number.isFinite(Number(given)) ? Number(given) : fallback;
}

/** Options for {@linkcode parseDeployment}. */
export interface ParseDeploymentOptions {
  /** Version to report when the manifest carries no `$version`. */
  version?: number;
  /** The parent's host (`[upstream] hostname`), which `$upstream` in image references names. */
  upstreamHost?: string;
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
  const content = readContent(raw);
  const { $edgeAgent, $edgeHub, ...twins } = parseModulesContent(content);
  const agentDesired = $edgeAgent["properties.desired"];
  const issues: ManifestIssue[] = [];
  const modules = withUpstreamImages(
    normalizeModules(agentDesired.modules, issues),
    options.upstreamHost,
    issues,
  );
  const hubDesired = $edgeHub?.["properties.desired"];
  if (hubDesired) issues.push(...routeIssues(hubDesired));
  if (issues.length > 0) throw new ManifestError(400, issues);
  const settings = agentDesired.runtime.settings;
  return {
    schemaVersion: agentDesired.schemaVersion,
    version: desiredVersion(agentDesired.$version, options.version ?? 1),
    runtime: {
      type: agentDesired.runtime.type,
      settings: {
        ...(settings.minDockerVersion === undefined
          ? {}
          : { minDockerVersion: settings.minDockerVersion }),
        ...(settings.loggingOptions === undefined
          ? {}
          : { loggingOptions: settings.loggingOptions }),
        registryCredentials: withUpstreamAddresses(
          settings.registryCredentials,
          options.upstreamHost,
        ),
        ...(settings.ledgeVersion === undefined ? {} : { ledgeVersion: settings.ledgeVersion }),
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
