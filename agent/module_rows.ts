/**
 * The rows of `ledge list`: ledge's own system modules first, then the deployment's modules with
 * their status in words (`Up 5 minutes`, the back-off with its count, or why it failed). Pure.
 */
import type { ModuleSummary } from "./agent_service.ts";
import type { ModuleInstance } from "./module_instance.ts";
import type { ReconcilerView } from "./reconciler.ts";
import type { EdgeAgentReported } from "./reported.ts";

/** `Up 42 seconds`, `Up 5 minutes`, `Up 3 hours`, `Up 2 days`, as `docker ps` words it. */
export function describeUptime(startedAt: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - startedAt) / 1000));
  if (seconds < 60) return `Up ${seconds} seconds`;
  if (seconds < 3600) return `Up ${Math.round(seconds / 60)} minutes`;
  if (seconds < 172800) return `Up ${Math.round(seconds / 3600)} hours`;
  return `Up ${Math.round(seconds / 86400)} days`;
}

/** What the rows are made of. */
export interface ModuleRowsInput {
  view: ReconcilerView;
  reported: EdgeAgentReported;
  /** When ledge started (its system modules' uptime), ms. */
  startedAt: number;
  now: number;
}

function describeModule(
  reported: EdgeAgentReported["modules"][string],
  instance: ModuleInstance | undefined,
  now: number,
): string {
  if (reported.runtimeStatus === "running" && instance?.startedAt !== undefined) {
    return describeUptime(instance.startedAt, now);
  }
  if (reported.runtimeStatus === "backoff" && reported.restartCount > 0) {
    return `${reported.statusDescription} (restart count ${reported.restartCount})`;
  }
  return reported.statusDescription;
}

/** The rows of `ledge list`. */
export function moduleRows(input: ModuleRowsInput): ModuleSummary[] {
  const { view, reported, startedAt, now } = input;
  const rows: ModuleSummary[] = Object.entries(reported.systemModules).map(([name, m]) => ({
    name,
    type: "ledge",
    status: m.runtimeStatus,
    description: describeUptime(startedAt, now),
    config: typeof m.settings.image === "string" ? m.settings.image : "",
    desiredStatus: "running",
    restartCount: 0,
    exitCode: 0,
    system: true,
  }));
  for (const module of view.desired?.modules ?? []) {
    const m = reported.modules[module.name]!;
    rows.push({
      name: module.name,
      type: module.type,
      status: m.runtimeStatus,
      description: describeModule(m, view.instances.get(module.name), now),
      config: module.type === "process"
        ? [module.process?.command, ...(module.process?.args ?? [])].join(" ")
        : module.image,
      desiredStatus: module.status,
      restartCount: m.restartCount,
      exitCode: m.exitCode,
      system: false,
    });
  }
  return rows;
}
