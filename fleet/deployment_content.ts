/**
 * The content of automatic deployments: checked at create (so invalid content never reaches a
 * device), and merged per device as IoT Hub merges layered deployments.
 *
 * A base deployment's content is a whole manifest (`$edgeAgent` and `$edgeHub` under
 * `properties.desired`). A layered deployment's content names paths with IoT Hub's dot notation:
 * `$edgeAgent: {"properties.desired.modules.sensor": {...}}`, `$edgeHub:
 * {"properties.desired.routes.up": "FROM ... INTO $upstream"}`, a module twin as
 * `"properties.desired"` (replaced whole) or `"properties.desired.a.b"` (one value). Layers apply
 * on top of the base in priority order; the later one wins a path both set.
 *
 * @module
 */
import { ManifestError, type ManifestIssue, parseDeployment } from "../agent/mod.ts";

/** `modulesContent`: module name -> `{ "properties.desired[.path]": value }`. */
export type ModulesContent = Record<string, Record<string, unknown>>;

const DESIRED = "properties.desired";
const DESIRED_PREFIX = `${DESIRED}.`;

/** What a layer may set under the system twins. */
const LAYER_PREFIXES: Readonly<Record<string, readonly string[]>> = {
  $edgeAgent: [`${DESIRED_PREFIX}modules.`],
  $edgeHub: [`${DESIRED_PREFIX}routes.`, `${DESIRED_PREFIX}storeAndForwardConfiguration`],
};

function clone<T>(value: T): T {
  return structuredClone(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Sets `value` at the dotted `path` below `target`, creating objects on the way. */
function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (!isObject(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = clone(value);
}

/**
 * The content a device gets: `base` with `layers` applied in order (each a layered
 * deployment's content; later ones win).
 *
 * @example
 * ```ts
 * mergeLayers(base, [{ $edgeAgent: { "properties.desired.modules.sensor": sensor } }]);
 * ```
 */
export function mergeLayers(
  base: ModulesContent,
  layers: readonly ModulesContent[],
): ModulesContent {
  const result = clone(base);
  for (const layer of layers) {
    for (const [twin, section] of Object.entries(layer)) {
      for (const [key, value] of Object.entries(section)) {
        const twinContent = result[twin] ??= {};
        if (key === DESIRED) {
          twinContent[DESIRED] = clone(value);
          continue;
        }
        if (!key.startsWith(DESIRED_PREFIX)) continue;
        if (!isObject(twinContent[DESIRED])) twinContent[DESIRED] = {};
        const path = key.slice(DESIRED_PREFIX.length).split(".");
        setPath(twinContent[DESIRED] as Record<string, unknown>, path, value);
      }
    }
  }
  return result;
}

/** The smallest valid base a layer is checked against. */
function checkingBase(): ModulesContent {
  const system = { type: "docker", settings: { image: "ledge", createOptions: "{}" } };
  return {
    $edgeAgent: {
      [DESIRED]: {
        schemaVersion: "1.1",
        runtime: { type: "docker", settings: { registryCredentials: {} } },
        systemModules: {
          edgeAgent: system,
          edgeHub: { ...system, status: "running", restartPolicy: "always" },
        },
        modules: {},
      },
    },
    $edgeHub: { [DESIRED]: { schemaVersion: "1.1", routes: {} } },
  };
}

function manifestIssues(content: ModulesContent): ManifestIssue[] {
  try {
    parseDeployment({ modulesContent: content });
    return [];
  } catch (error) {
    if (error instanceof ManifestError) return error.issues;
    throw error;
  }
}

function layerKeyIssues(content: ModulesContent): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  if (!isObject(content.$edgeAgent)) {
    issues.push({
      path: "modulesContent.$edgeAgent",
      message: "a layered deployment must include $edgeAgent (an empty object {} will do)",
    });
  }
  for (const [twin, section] of Object.entries(content)) {
    if (!isObject(section)) {
      issues.push({
        path: `modulesContent[${JSON.stringify(twin)}]`,
        message: "expected an object",
      });
      continue;
    }
    const allowed = LAYER_PREFIXES[twin];
    for (const key of Object.keys(section)) {
      const path = `modulesContent[${JSON.stringify(twin)}][${JSON.stringify(key)}]`;
      const ok = allowed === undefined
        ? key === DESIRED || (key.startsWith(DESIRED_PREFIX) && !key.endsWith("."))
        : allowed.some((prefix) => key.startsWith(prefix) && key.length > prefix.length);
      if (!ok) {
        issues.push({
          path,
          message: allowed === undefined
            ? 'expected "properties.desired" or "properties.desired.<path>"'
            : `a layer sets paths such as ${allowed.map((p) => `"${p}<name>"`).join(" or ")}`,
        });
      }
    }
  }
  return issues;
}

/**
 * What is wrong with a deployment's content, as JSON paths below `content`. A base is checked
 * as the agent checks a manifest; a layer for its dot-notation keys, and then merged onto a
 * minimal base and checked the same way.
 */
export function contentIssues(content: ModulesContent, layered: boolean): ManifestIssue[] {
  const issues = layered ? layerKeyIssues(content) : manifestIssues(content);
  if (layered && issues.length === 0) {
    issues.push(...manifestIssues(mergeLayers(checkingBase(), [content])));
  }
  return issues.map((issue) => ({ ...issue, path: `content.${issue.path}` }));
}
