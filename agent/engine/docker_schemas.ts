/**
 * zod schemas of the Docker Engine API v1.41 responses the driver reads (Podman's compatible
 * service answers in the same shapes). Only the fields used are declared; others pass.
 */
import { z } from "zod";

const labels = z.record(z.string(), z.string()).nullish().transform((v) => v ?? {});

/** `GET /version`. */
export const EngineVersion = z.object({
  Version: z.string(),
  ApiVersion: z.string().optional(),
  Os: z.string().optional(),
  Arch: z.string().optional(),
  Components: z.array(z.object({ Name: z.string() })).nullish(),
});
/** The engine's version answer. */
export type EngineVersion = z.infer<typeof EngineVersion>;

/** One entry of `GET /containers/json`. */
export const ContainerSummary = z.object({
  Id: z.string(),
  Names: z.array(z.string()).nullish(),
  Labels: labels,
});
/** A container in a list. */
export type ContainerSummary = z.infer<typeof ContainerSummary>;

/** `GET /containers/json`. */
export const ContainerList = z.array(ContainerSummary);
/** A container list. */
export type ContainerList = z.infer<typeof ContainerList>;

/** `GET /containers/{id}/json`. */
export const ContainerInspect = z.object({
  Id: z.string(),
  Name: z.string().optional(),
  Image: z.string().optional(),
  State: z.object({
    Status: z.string(),
    ExitCode: z.number().int().optional(),
    Error: z.string().optional(),
    StartedAt: z.string().optional(),
    FinishedAt: z.string().optional(),
    Health: z.object({ Status: z.string() }).nullish(),
  }),
  Config: z.object({
    Labels: labels,
    Tty: z.boolean().optional(),
  }),
});
/** A container's details. */
export type ContainerInspect = z.infer<typeof ContainerInspect>;

/** `POST /containers/create`. */
export const ContainerCreated = z.object({ Id: z.string() });
/** A created container. */
export type ContainerCreated = z.infer<typeof ContainerCreated>;

/** `GET /images/{name}/json`. */
export const ImageInspect = z.object({
  Id: z.string(),
  RepoTags: z.array(z.string()).nullish().transform((v) => v ?? []),
});
/** An image's details. */
export type ImageInspect = z.infer<typeof ImageInspect>;

/** `GET /networks/{name}`. */
export const NetworkInspect = z.object({
  Name: z.string(),
  Driver: z.string().optional(),
  IPAM: z.object({
    Config: z.array(z.object({ Gateway: z.string().optional(), Subnet: z.string().optional() }))
      .nullish(),
  }).nullish(),
});
/** A network's details. */
export type NetworkInspect = z.infer<typeof NetworkInspect>;

/** One message of `GET /events`. */
export const EventMessage = z.object({
  Type: z.string().optional(),
  Action: z.string().optional(),
  status: z.string().optional(),
  id: z.string().optional(),
  Actor: z.object({
    ID: z.string().optional(),
    Attributes: z.record(z.string(), z.string()).nullish(),
  }).optional(),
});
/** An engine event. */
export type EventMessage = z.infer<typeof EventMessage>;

/** One line of `POST /images/create` progress; `error` set means the pull failed. */
export const PullLine = z.object({
  status: z.string().optional(),
  id: z.string().optional(),
  progressDetail: z.object({ current: z.number().optional(), total: z.number().optional() })
    .nullish(),
  error: z.string().optional(),
  errorDetail: z.object({ message: z.string().optional() }).nullish(),
});
/** A pull progress line. */
export type PullLine = z.infer<typeof PullLine>;

/** An error body: `{message}` (Docker) or `{cause, message, response}` (Podman). */
export const ErrorBody = z.object({ message: z.string() });
/** An engine error body. */
export type ErrorBody = z.infer<typeof ErrorBody>;
