/**
 * The IoT Edge deployment manifest (`modulesContent`) as zod schemas: `$edgeAgent` desired
 * (runtime, systemModules, modules), `$edgeHub` desired (routes, store and forward), and the
 * modules' initial desired twins. {@linkcode parseDeployment} turns it into a `Deployment`.
 */
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.map((v) => `"${v}"`).join(", ")}` });
}

const text = lazySchema(() => z.string({ error: "expected a string" }));
const nonEmptyText = lazySchema(() => text.min(1, { error: "expected a non-empty string" }));

/** `restartPolicy` of a module, in IoT Edge's order (never < on-failure < on-unhealthy < always). */
export const RestartPolicy = lazySchema(() =>
  oneOf(["never", "on-failure", "on-unhealthy", "always"])
);
/** A restart policy name. */
export type RestartPolicy = z.infer<typeof RestartPolicy>;

/** Desired `status` of a module. */
export const ModuleStatus = lazySchema(() => oneOf(["running", "stopped"]));
/** A desired module status. */
export type ModuleStatus = z.infer<typeof ModuleStatus>;

/** `imagePullPolicy`: pull when the container is created (default), or never. */
export const ImagePullPolicy = lazySchema(() => oneOf(["on-create", "never"]));
/** An image pull policy. */
export type ImagePullPolicy = z.infer<typeof ImagePullPolicy>;

/** `env`: `{NAME: {value}}`. */
export const ModuleEnv = lazySchema(() =>
  z.record(
    text.regex(/^[^=\0]+$/, { error: "expected a variable name without '=' " }),
    z.object({
      value: z.union([text, z.number(), z.boolean()], {
        error: "expected a string, number or boolean",
      }),
    }, { error: 'expected an object {"value": "\u2026"}' }),
    { error: 'expected an object of {"NAME": {"value": "\u2026"}}' },
  )
);
/** A module's `env` as the manifest gives it. */
export type ModuleEnv = z.infer<typeof ModuleEnv>;

/** One entry of `runtime.settings.registryCredentials`; all three fields are required. */
export const RegistryCredential = lazySchema(() =>
  z.object({
    username: nonEmptyText,
    password: nonEmptyText,
    address: nonEmptyText,
  }, { error: "expected {username, password, address}" })
);
/** A registry credential. */
export type RegistryCredential = z.infer<typeof RegistryCredential>;

/** `runtime` of `$edgeAgent`. */
export const RuntimeSpec = lazySchema(() =>
  z.object({
    type: text.default("docker"),
    settings: z.object({
      minDockerVersion: text.optional(),
      loggingOptions: text.optional(),
      registryCredentials: z.record(text, RegistryCredential, {
        error: "expected an object of named credentials",
      }).default({}),
      /** ledge's own version this device should run (self-update from the parent). */
      ledgeVersion: z.string({ error: "expected a version string" }).regex(
        /^[A-Za-z0-9.+-]{1,64}$/,
        {
          error: "expected a version of letters, digits, . + - (at most 64)",
        },
      ).optional(),
    }, { error: "expected an object" }).default({ registryCredentials: {} }),
  }, { error: "expected an object" })
);
/** The runtime section. */
export type RuntimeSpec = z.infer<typeof RuntimeSpec>;

/** `settings` of a module: `image` and createOptions for docker, `command` for process. */
export const ModuleSettings = lazySchema(() =>
  z.record(text, z.unknown(), { error: "expected an object" })
);
/** Module settings as given. */
export type ModuleSettings = z.infer<typeof ModuleSettings>;

/** A module name: it becomes a container name, so Docker's rules apply. */
export const ModuleName = lazySchema(() =>
  text.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, {
    error: "expected 1\u2013128 characters of A-Z a-z 0-9 _ . - starting with a letter or digit",
  })
);

/** One entry of `modules`. */
export const ModuleSpec = lazySchema(() =>
  z.object({
    version: z.union([text, z.number()], { error: "expected a string" }).transform(String)
      .default("1.0"),
    type: oneOf(["docker", "process"]),
    status: ModuleStatus.default("running"),
    restartPolicy: RestartPolicy.default("always"),
    imagePullPolicy: ImagePullPolicy.default("on-create"),
    startupOrder: z.number({ error: "expected an integer 0\u20134294967295" })
      .int({ error: "expected an integer 0\u20134294967295" })
      .min(0, { error: "expected an integer 0\u20134294967295" })
      .max(4294967295, { error: "expected an integer 0\u20134294967295" })
      .default(4294967295),
    env: ModuleEnv.default({}),
    settings: ModuleSettings,
  }, { error: "expected a module object" })
);
/** A module as the manifest gives it. */
export type ModuleSpec = z.infer<typeof ModuleSpec>;

/** `systemModules.edgeAgent` / `edgeHub`: accepted and reported, run by ledge itself. */
export const SystemModuleSpec = lazySchema(() =>
  z.object({
    type: text.default("docker"),
    status: ModuleStatus.optional(),
    restartPolicy: RestartPolicy.optional(),
    settings: ModuleSettings.default({}),
    env: ModuleEnv.optional(),
  }, { error: "expected an object" })
);
/** A system module as given. */
export type SystemModuleSpec = z.infer<typeof SystemModuleSpec>;

/** `$edgeAgent` -> `properties.desired`. */
export const EdgeAgentDesired = lazySchema(() =>
  z.object({
    schemaVersion: text,
    runtime: RuntimeSpec.default({ type: "docker", settings: { registryCredentials: {} } }),
    systemModules: z.record(text, SystemModuleSpec, { error: "expected an object" }).default({}),
    modules: z.record(text, ModuleSpec, { error: "expected an object of modules" })
      .default({}),
    $version: z.union([z.number(), text]).optional(),
  }, { error: "expected an object" })
);
/** The agent's desired properties. */
export type EdgeAgentDesired = z.infer<typeof EdgeAgentDesired>;

/** A route: a string (1.0), or `{route, priority, timeToLiveSecs}` (1.1+). */
export const RouteSpec = lazySchema(() =>
  z.union([
    nonEmptyText,
    z.object({
      route: nonEmptyText,
      priority: z.number().int().min(0).max(9).optional(),
      timeToLiveSecs: z.number().int().optional(),
    }),
  ], { error: "expected a route string or {route, priority, timeToLiveSecs}" })
);
/** A route as the manifest gives it. */
export type RouteSpec = z.infer<typeof RouteSpec>;

/** `$edgeHub` -> `properties.desired`. */
export const EdgeHubDesired = lazySchema(() =>
  z.object({
    schemaVersion: text,
    routes: z.record(text, RouteSpec, { error: "expected an object of routes" }).default({}),
    storeAndForwardConfiguration: z.object({
      timeToLiveSecs: z.number({ error: "expected an integer" }).int().optional(),
      storeLimits: z.object({ maxSizeBytes: z.number().int().min(0).optional() }).optional(),
    }, { error: "expected an object" }).optional(),
  }, { error: "expected an object" })
);
/** The hub's desired properties. */
export type EdgeHubDesired = z.infer<typeof EdgeHubDesired>;

const desired = <T extends z.ZodType>(schema: T) =>
  z.object({ "properties.desired": schema }, { error: "expected an object" });

/** The `modulesContent` object: `$edgeAgent`, `$edgeHub`, and one entry per module twin. */
export const ModulesContent = lazySchema(() =>
  z.object({
    $edgeAgent: desired(EdgeAgentDesired),
    $edgeHub: desired(EdgeHubDesired).optional(),
  }).catchall(desired(z.record(text, z.unknown(), { error: "expected an object" })))
);
/** The whole `modulesContent`. */
export type ModulesContent = z.infer<typeof ModulesContent>;
