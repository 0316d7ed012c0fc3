/**
 * `ledge deployment create|list|show|update|delete`: automatic and layered deployments at this
 * parent, with `az iot edge deployment` habits. `create <id> --content deployment.json
 * --target-condition "tags.env='prod'" --priority 10 [--layered] [--labels k=v,...]
 * [--metrics name="<query>"] [--rollout 1%,10%,50%,100% --rollout-wait 10m --abort-if-failed 5%]`;
 * `show <id>` gives IoT Hub's system metrics and the custom ones with the device ids behind each,
 * the rollout, and per targeted device what applies (and which deployment won a tie).
 */
import { Command, Option } from "commander";
import { explainFleetError } from "./_fleet_output.ts";
import { deploymentBody, type DeploymentFlags } from "./_deployment_flags.ts";
import { out, printJson, printTable, withDaemon } from "./_shared.ts";
import { answer, type MgmtClient } from "./_client.ts";
import type {
  DeploymentRequest,
  DeploymentUpdate,
  DeploymentView,
  DeviceOutcome,
} from "../fleet/mod.ts";
import type { z } from "zod";

function deployments(client: MgmtClient) {
  return client.fleet.v1.fleet.deployments;
}

function param(id: string) {
  return { param: { id: encodeURIComponent(id) } };
}

function withContentFlags(command: Command, creating: boolean): Command {
  command
    .option(
      "--content <file>",
      "the deployment manifest (JSON, as az iot edge deployment create takes)",
    )
    .option("--target-condition <condition>", "which devices, e.g. \"tags.env='prod'\" (* for all)")
    .option("--priority <n>", "higher wins where two base deployments target a device")
    .option("--labels <labels>", "k=v,k2=v2 or a JSON object")
    .addOption(
      new Option(
        "--metrics <metric>",
        'a custom metric: name="SELECT deviceId FROM devices WHERE \u2026" (repeatable)',
      )
        .argParser((value: string, previous: string[] = []) => [...previous, value]),
    )
    .option("--json", "print JSON");
  if (creating) {
    command
      .option("--layered", "a layered deployment: its content sets paths on top of a base")
      .option("--rollout <waves>", "staged rollout: cumulative shares, e.g. 1%,10%,50%,100%")
      .option(
        "--rollout-wait <duration>",
        "how long a wave must report success before the next (10m)",
      )
      .option(
        "--abort-if-failed <percent>",
        "abort when more than this share of released devices fail",
      );
  }
  return command;
}

/** One line per targeted device: what applies and why. */
function deviceRow(device: DeviceOutcome) {
  let detail = device.description ?? "";
  if (device.status === "overridden") detail = `by ${device.overriddenBy}`;
  if (device.tie !== undefined) {
    const others = device.tie.others.join(", ");
    detail += `${
      detail ? "; " : ""
    }tie at equal priority with ${others}: ${device.tie.winner} wins (created later)`;
  }
  if (device.error !== undefined) detail += `${detail ? "; " : ""}${device.error}`;
  return { device: device.deviceId, status: device.status, outcome: device.outcome ?? "", detail };
}

/** Prints a deployment for people. */
export function printDeployment(view: DeploymentView): void {
  out(`${view.id}${view.layered ? " (layered)" : ""}  priority ${view.priority}`);
  out(`target condition: ${view.targetCondition}`);
  if (Object.keys(view.labels).length > 0) out(`labels: ${JSON.stringify(view.labels)}`);
  if (view.targetsNoDevice) out("targets no device");
  for (const [name, count] of Object.entries(view.systemMetrics.results)) {
    const ids = view.systemMetrics.deviceIds[name as keyof typeof view.systemMetrics.deviceIds];
    out(`${name}: ${count}${ids.length > 0 ? `  (${ids.join(", ")})` : ""}`);
  }
  for (const [name, count] of Object.entries(view.metrics.results)) {
    const ids = view.metrics.deviceIds[name] ?? [];
    out(`metric ${name}: ${count}${ids.length > 0 ? `  (${ids.join(", ")})` : ""}`);
  }
  const rollout = view.rollout;
  if (rollout !== undefined) {
    out(
      `rollout: ${rollout.status}, wave ${rollout.wave} of ${rollout.waves.length} ` +
        `(${
          rollout.waves.map((w) => `${w}%`).join(", ")
        }), ${rollout.releasedDeviceIds.length} released`,
    );
    if (rollout.reason !== undefined) out(`aborted: ${rollout.reason}`);
    if (rollout.returnedDeviceIds !== undefined) {
      out(`returned to what they ran before: ${rollout.returnedDeviceIds.join(", ")}`);
    }
  }
  if (view.devices.length > 0) {
    printTable(view.devices.map(deviceRow), ["device", "status", "outcome", "detail"]);
  }
}

function createCommand(): Command {
  return withContentFlags(new Command("create"), true)
    .description("create an automatic (or layered) deployment")
    .argument("<id>", "deployment id (lower-case)")
    .action(async (id: string, flags: DeploymentFlags & { json?: boolean }, command: Command) => {
      const body: Record<string, unknown> = {
        ...(await deploymentBody(flags, { creating: true })),
        id,
      };
      const condition = typeof body.targetCondition === "string" ? body.targetCondition : undefined;
      const view = await withDaemon(
        command,
        (client) =>
          answer(deployments(client).$post({ json: body as z.input<typeof DeploymentRequest> }))
            .catch((error) => explainFleetError(error, condition)),
      );
      if (flags.json) return printJson(view);
      printDeployment(view as DeploymentView);
    });
}

function updateCommand(): Command {
  return withContentFlags(new Command("update"), false)
    .description("change a deployment's target condition, priority, labels, metrics or content")
    .argument("<id>", "deployment id")
    .action(async (id: string, flags: DeploymentFlags & { json?: boolean }, command: Command) => {
      const body = await deploymentBody(flags, { creating: false });
      const condition = typeof body.targetCondition === "string" ? body.targetCondition : undefined;
      const view = await withDaemon(
        command,
        (client) =>
          answer(
            deployments(client)[":id"].$patch({ ...param(id), json: body as DeploymentUpdate }),
          )
            .catch((error) => explainFleetError(error, condition)),
      ) as DeploymentView;
      if (flags.json) return printJson(view);
      if (body.content !== undefined) {
        out(
          `content changed: the ${view.systemMetrics.results.appliedCount} devices it applies to ` +
            "get the new content",
        );
      }
      printDeployment(view);
    });
}

function listCommand(): Command {
  return new Command("list")
    .description("every deployment with its metrics")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const list = await withDaemon(command, (client) => answer(deployments(client).$get()));
      if (options.json) return printJson(list);
      printTable(
        list.map((d) => ({
          id: d.id,
          priority: d.priority,
          layered: d.layered ? "yes" : "",
          targeted: d.systemMetrics.results.targetedCount,
          applied: d.systemMetrics.results.appliedCount,
          successful: d.systemMetrics.results.reportedSuccessfulCount,
          failed: d.systemMetrics.results.reportedFailedCount,
          rollout: "rolloutStatus" in d ? String(d.rolloutStatus) : "",
          condition: d.targetCondition,
        })),
        [
          "id",
          "priority",
          "layered",
          "targeted",
          "applied",
          "successful",
          "failed",
          "rollout",
          "condition",
        ],
      );
    });
}

/** Builds the `deployment` verb. */
export function deploymentCommand(): Command {
  return new Command("deployment")
    .description("automatic and layered deployments of this parent's fleet")
    .addCommand(createCommand())
    .addCommand(listCommand())
    .addCommand(
      new Command("show").description("a deployment: metrics, rollout and each targeted device")
        .argument("<id>", "deployment id").option("--json", "print JSON")
        .action(async (id: string, options: { json?: boolean }, command: Command) => {
          const view = await withDaemon(
            command,
            (client) => answer(deployments(client)[":id"].$get(param(id))),
          );
          if (options.json) return printJson(view);
          printDeployment(view as DeploymentView);
        }),
    )
    .addCommand(updateCommand())
    .addCommand(
      new Command("delete").description("delete a deployment (devices take their next one)")
        .argument("<id>", "deployment id")
        .action(async (id: string, _options: unknown, command: Command) => {
          await withDaemon(
            command,
            (client) => answer(deployments(client)[":id"].$delete(param(id))),
          );
          out(`deployment ${id} deleted`);
        }),
    );
}
