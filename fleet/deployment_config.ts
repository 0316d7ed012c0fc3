/**
 * An automatic deployment as `az iot edge deployment create` sends it to IoT Hub (a
 * "configuration": `id`, `content.modulesContent`, `targetCondition`, `priority`, `labels`,
 * `metrics.queries`), plus ledge's `layered` flag and staged `rollout`. Computed fields a copy
 * of `az ... show` output carries (`systemMetrics`, `etag`, times) are accepted and ignored.
 *
 * @module
 */
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";

/** IoT Hub's configuration id: up to 128 lower-case letters, digits and a few symbols. */
export const DeploymentId = lazySchema(() =>
  z.string({ error: "expected a string" }).regex(
    /^[a-z0-9][a-z0-9\-:+%_#*?!(),=@;$'.]{0,127}$/,
    {
      error:
        "expected 1\u2013128 lower-case letters, digits or - : + % _ # * ? ! ( ) , = @ ; $ ' . " +
        "(starting with a letter or digit)",
    },
  )
);

/** A staged rollout: cumulative percentages of the targeted devices, wave by wave. */
export const RolloutSpec = lazySchema(() =>
  z.strictObject({
    /** Cumulative percentages, increasing, the last 100 (e.g. 1, 10, 50, 100). */
    waves: z.array(z.number().gt(0).max(100), { error: "expected an array of percentages" })
      .min(1, { error: "expected at least one wave" })
      .refine((waves) => waves.every((w, i) => i === 0 || w > waves[i - 1]!), {
        error: "expected increasing percentages",
      })
      .refine((waves) => waves[waves.length - 1] === 100, {
        error: "expected the last wave to be 100",
      }),
    /** How long a wave must have reported success before the next starts. */
    waitSeconds: z.number().int().min(0).max(30 * 86400).default(0),
    /** Abort when more than this share of the devices released so far failed. */
    abortIfFailedPercent: z.number().min(0).max(100).default(0),
  })
);
/** A staged rollout. */
export type RolloutSpec = z.infer<typeof RolloutSpec>;

/** The body of `POST /v1/fleet/deployments`. */
export const DeploymentRequest = lazySchema(() =>
  z.object({
    id: DeploymentId,
    /** `content.modulesContent` (also accepted: `{modulesContent}` at the top of `content`). */
    content: z.object({
      modulesContent: z.record(z.string(), z.unknown(), {
        error: "expected an object of module twins",
      }),
    }, { error: 'expected {"modulesContent": {\u2026}}' }),
    targetCondition: z.string({ error: 'expected a target condition (or "*")' }).default("*"),
    priority: z.number({ error: "expected a whole number" }).int({
      error: "expected a whole number",
    })
      .min(0, { error: "expected 0 or more" }).default(0),
    labels: z.record(z.string(), z.string(), { error: "expected an object of strings" })
      .default({}),
    metrics: z.object({
      queries: z.record(z.string().min(1), z.string(), {
        error: "expected an object of named queries",
      }).default({}),
    }).default({ queries: {} }),
    layered: z.boolean({ error: "expected true or false" }).default(false),
    rollout: RolloutSpec.optional(),
  })
);
/** A deployment as created. */
export type DeploymentRequest = z.infer<typeof DeploymentRequest>;

/** The body of `PATCH /v1/fleet/deployments/:id`: any of the changeable fields. */
export const DeploymentUpdate = lazySchema(() =>
  z.strictObject({
    content: DeploymentRequest.shape.content.optional(),
    targetCondition: z.string({ error: "expected a target condition" }).optional(),
    priority: DeploymentRequest.shape.priority.unwrap().optional(),
    labels: DeploymentRequest.shape.labels.unwrap().optional(),
    metrics: z.object({ queries: z.record(z.string().min(1), z.string()) }).optional(),
  })
);
/** A deployment update. */
export type DeploymentUpdate = z.infer<typeof DeploymentUpdate>;

/** Where a staged rollout stands. */
export interface RolloutState {
  status: "rolling" | "completed" | "aborted";
  /** Index of the current wave in `rollout.waves`. */
  wave: number;
  /** When the current wave was released (ms since the epoch). */
  waveStartedAt: number;
  /** When every device of the current wave first reported success, if they have. */
  waveSucceededAt: number | undefined;
  /** Devices released so far, in release order. */
  released: string[];
  /** Why it was aborted. */
  reason?: string;
  /** Devices of the aborted rollout returned to what they ran before. */
  returned?: string[];
}

/** A stored deployment. */
export interface StoredDeployment extends DeploymentRequest {
  createdTimeUtc: string;
  lastUpdatedTimeUtc: string;
  /** Creation order, for ties of equal priority created in the same millisecond. */
  sequence: number;
  /** Bumped on each change, for `If-Match`. */
  etag: number;
  rolloutState?: RolloutState;
}
