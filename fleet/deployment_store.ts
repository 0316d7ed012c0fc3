/**
 * The parent's automatic deployments and what the fleet last wrote to each device, persisted as
 * `<state>/fleet/deployments.json` and `<state>/fleet/applied.json`.
 *
 * @module
 */
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import type { RolloutState, StoredDeployment } from "./deployment_config.ts";
import type { ModulesContent } from "./deployment_content.ts";
import { type JsonFile, openJsonFile } from "./json_file.ts";

/** What the fleet last wrote into a device's twins. */
export interface AppliedRecord {
  deviceId: string;
  /** The deployments that content came from: the base, then the layers. */
  deployments: string[];
  /** The content's stable JSON, to skip writing what is already there. */
  contentKey: string;
  /**
   * What the device had before a staged rollout's content replaced it (to return to on abort),
   * with the deployments it came from (none when it was not the fleet's).
   */
  before?: { deployments: string[]; content: ModulesContent };
}

const DeploymentsFile = lazySchema(() =>
  z.object({
    version: z.literal(1),
    sequence: z.number().int(),
    deployments: z.array(z.custom<StoredDeployment>((value) => typeof value === "object")),
  })
);
type DeploymentsFile = z.infer<typeof DeploymentsFile>;

const AppliedFile = lazySchema(() =>
  z.object({
    version: z.literal(1),
    devices: z.record(z.string(), z.custom<AppliedRecord>((value) => typeof value === "object")),
  })
);
type AppliedFile = z.infer<typeof AppliedFile>;

/** Deployments and applied records. */
export class DeploymentStore {
  readonly #deployments: JsonFile<DeploymentsFile>;
  readonly #applied: JsonFile<AppliedFile>;

  private constructor(deployments: JsonFile<DeploymentsFile>, applied: JsonFile<AppliedFile>) {
    this.#deployments = deployments;
    this.#applied = applied;
  }

  /** Opens the files in `dir`. */
  static async open(dir: string): Promise<DeploymentStore> {
    const deployments = await openJsonFile(`${dir}/deployments.json`, DeploymentsFile, () => ({
      version: 1 as const,
      sequence: 0,
      deployments: [],
    }));
    const applied = await openJsonFile(`${dir}/applied.json`, AppliedFile, () => ({
      version: 1 as const,
      devices: {},
    }));
    return new DeploymentStore(deployments, applied);
  }

  /** Every deployment, in creation order. */
  list(): StoredDeployment[] {
    return [...this.#deployments.value.deployments];
  }

  get(id: string): StoredDeployment | undefined {
    return this.#deployments.value.deployments.find((deployment) => deployment.id === id);
  }

  /** Adds a new deployment (its id is unused: the caller checked). */
  async add(
    deployment: Omit<
      StoredDeployment,
      "sequence" | "etag" | "createdTimeUtc" | "lastUpdatedTimeUtc"
    >,
    now: Date,
  ): Promise<StoredDeployment> {
    const file = this.#deployments.value;
    const stored: StoredDeployment = {
      ...deployment,
      createdTimeUtc: now.toISOString(),
      lastUpdatedTimeUtc: now.toISOString(),
      sequence: ++file.sequence,
      etag: 1,
    };
    file.deployments.push(stored);
    await this.#deployments.save();
    return stored;
  }

  /** Replaces fields of `id`; resolves with the updated deployment, or undefined when absent. */
  async update(
    id: string,
    change: Partial<StoredDeployment>,
    now: Date,
  ): Promise<StoredDeployment | undefined> {
    const list = this.#deployments.value.deployments;
    const index = list.findIndex((deployment) => deployment.id === id);
    if (index < 0) return undefined;
    const previous = list[index]!;
    const next: StoredDeployment = {
      ...previous,
      ...change,
      lastUpdatedTimeUtc: now.toISOString(),
      etag: previous.etag + 1,
    };
    list[index] = next;
    await this.#deployments.save();
    return next;
  }

  /** Sets a rollout's state (no new etag: the fleet's progress, not an operator's change). */
  async setRollout(id: string, state: RolloutState): Promise<void> {
    const deployment = this.get(id);
    if (!deployment) return;
    deployment.rolloutState = state;
    await this.#deployments.save();
  }

  /** Removes `id`; resolves false when absent. */
  async remove(id: string): Promise<boolean> {
    const file = this.#deployments.value;
    const before = file.deployments.length;
    file.deployments = file.deployments.filter((deployment) => deployment.id !== id);
    if (file.deployments.length === before) return false;
    await this.#deployments.save();
    return true;
  }

  /** What the fleet last wrote to `deviceId`. */
  applied(deviceId: string): AppliedRecord | undefined {
    return this.#applied.value.devices[deviceId.toLowerCase()];
  }

  /** Records what the fleet wrote to a device (durable when the promise resolves). */
  setApplied(record: AppliedRecord): Promise<void> {
    this.#applied.value.devices[record.deviceId.toLowerCase()] = record;
    return this.#applied.save();
  }
}
