/**
 * The agent's view of a container, from the engine's inspect answer: its module (labels), state
 * and health in Docker's words (Podman's own states mapped onto them), exit, times and config
 * hash.
 */
import type { ModuleInstance } from "../module_instance.ts";
import type { ContainerInspect } from "./docker_schemas.ts";
import { CONFIG_HASH_LABEL, MODULE_LABEL } from "./labels.ts";

const ZERO_TIME = /^0001-01-01/;

function parseTime(value: string | undefined): number | undefined {
  if (!value || ZERO_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function normalizeState(status: string): ModuleInstance["state"] {
  switch (status) {
    case "running":
    case "paused":
    case "restarting":
    case "removing":
    case "exited":
    case "dead":
    case "created":
      return status;
    case "stopped":
    case "stopping":
      return "exited";
    default: // podman: configured, initialized, unknown
      return "created";
  }
}

function normalizeHealth(status: string | undefined): ModuleInstance["health"] {
  return status === "starting" || status === "healthy" || status === "unhealthy" ? status : "none";
}

/** Converts an inspect answer to the agent's view; undefined when it lacks the module label. */
export function toModuleInstance(inspect: ContainerInspect): ModuleInstance | undefined {
  const labels = inspect.Config.Labels;
  const name = labels[MODULE_LABEL];
  if (name === undefined) return undefined;
  return {
    name,
    id: inspect.Id,
    type: "docker",
    state: normalizeState(inspect.State.Status),
    health: normalizeHealth(inspect.State.Health?.Status),
    exitCode: inspect.State.ExitCode ?? 0,
    startedAt: parseTime(inspect.State.StartedAt),
    finishedAt: parseTime(inspect.State.FinishedAt),
    configHash: labels[CONFIG_HASH_LABEL] ?? "",
    imageId: inspect.Image ?? "",
    error: inspect.State.Error ?? "",
  };
}
