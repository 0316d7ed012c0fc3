/**
 * The steps the planner emits and the executor performs, as plain data.
 */
import type { DesiredModule } from "./deployment.ts";
import type { ModuleInstance } from "./module_instance.ts";

/** `runtimeStatus` of a module, as IoT Edge reports it. */
export type RuntimeStatus =
  | "unknown"
  | "backoff"
  | "running"
  | "unhealthy"
  | "stopped"
  | "failed"
  | "dead";

/** Pull the module's image (imagePullPolicy `on-create`, before a create). */
export interface PullStep {
  kind: "pull";
  name: string;
  module: DesiredModule;
}
/** Create the module's container or process (provisioning its identity first). */
export interface CreateStep {
  kind: "create";
  name: string;
  module: DesiredModule;
}
/** Start it; `restart` when it ran before and exited (counts toward back-off). */
export interface StartStep {
  kind: "start";
  name: string;
  module: DesiredModule;
  restart: boolean;
}
/** Stop a running instance. */
export interface StopStep {
  kind: "stop";
  name: string;
  instance: ModuleInstance;
  reason: string;
}
/** Stop and remove an instance; `dropped` when the module left the deployment (identity goes too). */
export interface RemoveStep {
  kind: "remove";
  name: string;
  instance: ModuleInstance;
  dropped: boolean;
}
/** Replace an instance whose config changed: stop, remove, create. */
export interface RecreateStep {
  kind: "recreate";
  name: string;
  module: DesiredModule;
  instance: ModuleInstance;
}
/** Nothing to do before `until` (ms since the epoch): the module is backing off. */
export interface WaitBackoffStep {
  kind: "wait-backoff";
  name: string;
  until: number;
  restartCount: number;
}
/** The status to report for a module while nothing else happens to it. */
export interface ReportStep {
  kind: "report";
  name: string;
  status: RuntimeStatus;
  description: string;
}

/** One step of a plan. */
export type Step =
  | PullStep
  | CreateStep
  | StartStep
  | StopStep
  | RemoveStep
  | RecreateStep
  | WaitBackoffStep
  | ReportStep;

/** Step kinds that change something on the engine. */
export type ActionStep = Exclude<Step, WaitBackoffStep | ReportStep>;

/** Whether `step` changes something (as opposed to waiting or reporting). */
export function isAction(step: Step): step is ActionStep {
  return step.kind !== "wait-backoff" && step.kind !== "report";
}
