/**
 * The `$edgeAgent` reported properties, shaped as IoT Edge's agent reports them, built from the
 * deployment, the observed instances, the statuses and the restart stats. Pure.
 */
import { VERSION } from "../core/version.ts";
import { chunkCreateOptions } from "./create_options.ts";
import type { Deployment, DesiredModule } from "./deployment.ts";
import type { ImagePullPolicy, ModuleStatus, RestartPolicy } from "./manifest.ts";
import type { ModuleInstance } from "./module_instance.ts";
import type { ModuleStatusEntry } from "./reconciler.ts";
import type { RestartStats } from "./restart_policy.ts";
import type { RuntimeStatus } from "./step.ts";
import type { DeploymentHealth } from "./rollback.ts";

/** The time IoT Edge reports for "never". */
export const NEVER_UTC = "0001-01-01T00:00:00Z";

/** `lastDesiredStatus`: 200 ok, 400 format error, 406 not connected, 412 schema, 417 empty, 500. */
export interface DesiredStatus {
  code: number;
  description: string;
  /** Set when the device rolled a deployment back: the version it rolled back from. */
  rolledBackFrom?: number | undefined;
  /** ...and the version it runs instead. */
  runningVersion?: number | undefined;
}

/** One module of `modules` (or `systemModules`) in the reported properties. */
export interface ReportedModule {
  version?: string;
  type: string;
  status?: ModuleStatus;
  restartPolicy?: RestartPolicy;
  imagePullPolicy?: ImagePullPolicy;
  startupOrder?: number;
  env?: Record<string, { value: string }>;
  settings: Record<string, unknown>;
  runtimeStatus: RuntimeStatus;
  statusDescription: string;
  exitCode: number;
  lastStartTimeUtc: string;
  lastExitTimeUtc: string;
  restartCount: number;
  lastRestartTimeUtc: string;
}

/** The `$edgeAgent` reported properties. */
export interface EdgeAgentReported {
  schemaVersion: "1.0";
  version: { version: string; build: string; commit: string };
  lastDesiredVersion?: number;
  lastDesiredStatus: DesiredStatus;
  runtime: {
    platform: { os: string; architecture: string; version: string };
    type: "docker";
    settings: { minDockerVersion?: string; loggingOptions?: string };
  };
  systemModules: Record<string, ReportedModule>;
  modules: Record<string, ReportedModule>;
  /** ledge: how the current deployment fares against the health-gated rollback. */
  deploymentHealth?: DeploymentHealth;
  /** ledge: what was cut so the report fits a twin's reported side (see reported_fit.ts). */
  reportCut?: ReportCut;
}

/** What was cut from a report over the twin limit. */
export interface ReportCut {
  /** The limit, and the size of the report before it was cut (bytes of JSON). */
  limitBytes: number;
  fullBytes: number;
  /**
   * What modules echo of the deployment was left out: `env`, `version`, `status`, the policies,
   * `startupOrder`, and `settings` but image, imageHash, command, args.
   */
  settingsOmitted: boolean;
  /** Descriptions longer than this were cut to it (UTF-16 units) around "...[cut]...". */
  descriptionsCutTo?: number;
  /** False when even the shortest form is over the limit (the parent refuses it). */
  fits: boolean;
}

/** Inputs of {@linkcode buildReported}. */
export interface ReportedInput {
  deployment: Deployment | undefined;
  lastDesiredVersion: number | undefined;
  lastDesiredStatus: DesiredStatus;
  instances: ReadonlyMap<string, ModuleInstance>;
  statuses: ReadonlyMap<string, ModuleStatusEntry>;
  stats: ReadonlyMap<string, RestartStats>;
  platform: { os: string; architecture: string; version: string };
  /** When ledge (edgeAgent and edgeHub) started, ms. */
  startedAt: number;
  health?: DeploymentHealth | undefined;
}

function utc(ms: number | undefined): string {
  return ms === undefined ? NEVER_UTC : new Date(ms).toISOString();
}

function reportModule(module: DesiredModule, input: ReportedInput): ReportedModule {
  const instance = input.instances.get(module.name);
  const status = input.statuses.get(module.name) ?? { status: "unknown", description: "" };
  const stats = input.stats.get(module.name);
  const settings: Record<string, unknown> = module.type === "process"
    ? { ...module.process }
    : { image: module.image, ...chunkCreateOptions(module.createOptions) };
  if (instance?.imageId) settings.imageHash = instance.imageId;
  return {
    version: module.version,
    type: module.type,
    status: module.status,
    restartPolicy: module.restartPolicy,
    imagePullPolicy: module.imagePullPolicy,
    startupOrder: module.startupOrder,
    env: Object.fromEntries(Object.entries(module.env).map(([k, value]) => [k, { value }])),
    settings,
    runtimeStatus: status.status,
    statusDescription: status.description,
    exitCode: instance?.exitCode ?? 0,
    lastStartTimeUtc: utc(instance?.startedAt),
    lastExitTimeUtc: utc(instance?.finishedAt),
    restartCount: stats?.restartCount ?? 0,
    lastRestartTimeUtc: utc(stats?.lastRestartTime),
  };
}

function systemModule(name: string, input: ReportedInput): ReportedModule {
  const spec = input.deployment?.systemModules[name];
  const image = spec?.settings.image;
  return {
    type: spec?.type ?? "docker",
    ...(spec?.status ? { status: spec.status } : {}),
    ...(spec?.restartPolicy ? { restartPolicy: spec.restartPolicy } : {}),
    settings: typeof image === "string" ? { image } : {},
    runtimeStatus: "running",
    statusDescription: `provided by ledge ${VERSION}`,
    exitCode: 0,
    lastStartTimeUtc: utc(input.startedAt),
    lastExitTimeUtc: NEVER_UTC,
    restartCount: 0,
    lastRestartTimeUtc: NEVER_UTC,
  };
}

/** Builds the reported properties. */
export function buildReported(input: ReportedInput): EdgeAgentReported {
  const settings = input.deployment?.runtime.settings;
  const systemNames = new Set([
    "edgeAgent",
    "edgeHub",
    ...Object.keys(input.deployment?.systemModules ?? {}),
  ]);
  return {
    schemaVersion: "1.0",
    version: { version: VERSION, build: VERSION, commit: "" },
    ...(input.lastDesiredVersion === undefined
      ? {}
      : { lastDesiredVersion: input.lastDesiredVersion }),
    lastDesiredStatus: input.lastDesiredStatus,
    runtime: {
      platform: input.platform,
      type: "docker",
      settings: {
        ...(settings?.minDockerVersion ? { minDockerVersion: settings.minDockerVersion } : {}),
        ...(settings?.loggingOptions !== undefined
          ? { loggingOptions: settings.loggingOptions }
          : {}),
      },
    },
    systemModules: Object.fromEntries(
      [...systemNames].map((name) => [name, systemModule(name, input)]),
    ),
    modules: Object.fromEntries(
      (input.deployment?.modules ?? []).map((module) => [module.name, reportModule(module, input)]),
    ),
    ...(input.health === undefined ? {} : { deploymentHealth: input.health }),
  };
}
