/**
 * What the agent keeps on disk under `<state>/agent/`: the last accepted deployment
 * (`deployment.json`, 0600: it holds registry passwords), re-applied at start-up with no
 * upstream, and the last desired status (`status.json`). Writes are atomic (temp + rename).
 */
import { z } from "zod";

/** The persisted deployment. */
export const StoredDeployment = z.object({
  version: z.number(),
  acceptedAt: z.string(),
  manifest: z.record(z.string(), z.unknown()),
});
/** A persisted deployment. */
export type StoredDeployment = z.infer<typeof StoredDeployment>;

/** The persisted desired status. */
export const StoredStatus = z.object({
  lastDesiredVersion: z.number().optional(),
  lastDesiredStatus: z.object({ code: z.number(), description: z.string() }),
});
/** A persisted desired status. */
export type StoredStatus = z.infer<typeof StoredStatus>;

/** The agent's files. */
export interface AgentStore {
  readonly dir: string;
  loadDeployment(): Promise<StoredDeployment | undefined>;
  saveDeployment(stored: StoredDeployment): Promise<void>;
  loadStatus(): Promise<StoredStatus | undefined>;
  saveStatus(status: StoredStatus): Promise<void>;
  /** Writes the reported properties for readers outside the daemon. */
  saveReported(reported: unknown): Promise<void>;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(temp, text, { mode: 0o600 });
  await Deno.rename(temp, path);
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
  };
}
