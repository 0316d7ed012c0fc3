/**
 * What the agent keeps on disk under `<state>/agent/`: the last accepted deployment
 * (`deployment.json`, 0600: it holds registry passwords), re-applied at start-up with no
 * upstream, the last desired status (`status.json`), and the operator's start/stop overrides
 * of that deployment (`overrides.json`). Writes are atomic (temp + rename).
 */
import { writeFileAtomic } from "../core/atomic_file.ts";
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import { ModuleStatus } from "./manifest.ts";

/** The persisted deployment. */
export const StoredDeployment = lazySchema(() =>
  z.object({
    version: z.number(),
    acceptedAt: z.string(),
    manifest: z.record(z.string(), z.unknown()),
    /** False when it was deployed with `--no-rollback`. */
    rollback: z.boolean().optional(),
  })
);
/** A persisted deployment. */
export type StoredDeployment = z.infer<typeof StoredDeployment>;

/** The persisted desired status. */
export const StoredStatus = lazySchema(() =>
  z.object({
    lastDesiredVersion: z.number().optional(),
    lastDesiredStatus: z.object({
      code: z.number(),
      description: z.string(),
      rolledBackFrom: z.number().optional(),
      runningVersion: z.number().optional(),
    }),
  })
);
/** A persisted desired status. */
export type StoredStatus = z.infer<typeof StoredStatus>;

/** A deployment that was rolled back, so the same content from the parent is not applied again. */
export const RolledBack = lazySchema(() =>
  z.object({
    version: z.number(),
    key: z.string(),
    reason: z.string(),
    runningVersion: z.number().optional(),
  })
);
/** A rolled-back deployment. */
export type RolledBack = z.infer<typeof RolledBack>;

/** `ledge start|stop <module>` overrides, for the deployment `version` they were made under. */
export const StoredOverrides = lazySchema(() =>
  z.object({
    version: z.number(),
    modules: z.record(z.string(), ModuleStatus),
  })
);
/** Persisted operator overrides. */
export type StoredOverrides = z.infer<typeof StoredOverrides>;

/** The agent's files. */
export interface AgentStore {
  readonly dir: string;
  loadDeployment(): Promise<StoredDeployment | undefined>;
  saveDeployment(stored: StoredDeployment): Promise<void>;
  loadStatus(): Promise<StoredStatus | undefined>;
  saveStatus(status: StoredStatus): Promise<void>;
  /** Writes the reported properties for readers outside the daemon. */
  saveReported(reported: unknown): Promise<void>;
  /** The last deployment that ran healthy (health-gated rollback). */
  loadGood(): Promise<StoredDeployment | undefined>;
  saveGood(good: StoredDeployment): Promise<void>;
  /** The last deployment rolled back, so the parent's re-send of it is not applied again. */
  loadRolledBack(): Promise<RolledBack | undefined>;
  saveRolledBack(rolledBack: RolledBack | undefined): Promise<void>;
  /** The operator's overrides; none when the deployment has none. */
  loadOverrides(): Promise<StoredOverrides | undefined>;
  saveOverrides(overrides: StoredOverrides | undefined): Promise<void>;
}

/** The agent's files are written often and rebuilt from the deployment: not synced. */
function writeAtomic(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, text, { sync: false });
}

async function removeFile(path: string): Promise<void> {
  await Deno.remove(path).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(
      `Cannot read ${path}: ${parsed.error.issues[0]?.path.join(".")}: ${
        parsed.error.issues[0]?.message
      }`,
    );
  }
  return parsed.data;
}

/** Opens (and creates, 0700) the agent's dir in `stateDir`. */
export async function openAgentStore(stateDir: string): Promise<AgentStore> {
  const dir = `${stateDir}/agent`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  return {
    dir,
    loadDeployment: () => readJson(`${dir}/deployment.json`, StoredDeployment),
    saveDeployment: (stored) =>
      writeAtomic(`${dir}/deployment.json`, JSON.stringify(stored, null, 2)),
    loadStatus: () => readJson(`${dir}/status.json`, StoredStatus),
    saveStatus: (status) => writeAtomic(`${dir}/status.json`, JSON.stringify(status, null, 2)),
    saveReported: (reported) =>
      writeAtomic(`${dir}/reported.json`, JSON.stringify(reported, null, 2)),
    loadGood: () => readJson(`${dir}/good.json`, StoredDeployment),
    saveGood: (good) => writeAtomic(`${dir}/good.json`, JSON.stringify(good, null, 2)),
    loadRolledBack: () => readJson(`${dir}/rolled_back.json`, RolledBack),
    saveRolledBack: (rolledBack) =>
      rolledBack === undefined
        ? removeFile(`${dir}/rolled_back.json`)
        : writeAtomic(`${dir}/rolled_back.json`, JSON.stringify(rolledBack, null, 2)),
    loadOverrides: () => readJson(`${dir}/overrides.json`, StoredOverrides),
    saveOverrides: (overrides) =>
      overrides === undefined || Object.keys(overrides.modules).length === 0
        ? removeFile(`${dir}/overrides.json`)
        : writeAtomic(`${dir}/overrides.json`, JSON.stringify(overrides, null, 2)),
  };
}
