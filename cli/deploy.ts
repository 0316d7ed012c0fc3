/**
 * `ledge deploy <file> [--wait] [--timeout S]`: validates an IoT Edge deployment manifest
 * locally, hands it to the daemon, and with `--wait` shows each module's progress until the
 * deployment converged (exit 0) or a module failed or the time ran out (exit 1). With
 * `--device <child>`, it sets a child edge device's twins on this parent instead; the child (or
 * the chain of parents down to it) applies them when connected.
 */
import { Command } from "commander";
import type { ModuleSummary } from "../agent/mod.ts";
import { ManifestError, parseDeployment } from "../agent/mod.ts";
import { ExitError, out, parseCount, printJson, UsageError, withDaemon } from "./_shared.ts";
import { answer, type MgmtClient } from "./_client.ts";
import { getTwin, patchDesired } from "./twin.ts";
import { twinContentPatches } from "../fleet/mod.ts";

interface DeployOptions {
  device?: string;
  wait?: boolean;
  timeout: string;
  json?: boolean;
  rollback?: boolean;
}

/** Reads and validates the manifest file; throws an {@linkcode ExitError} naming the problem. */
export async function readManifest(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new ExitError(1, `Cannot read ${file}: ${(error as Error).message}`);
  }
  let manifest: unknown = undefined;
  if (text.trim() !== "") {
    try {
      manifest = JSON.parse(text);
    } catch (error) {
      throw new ExitError(1, `Cannot read ${file}: invalid JSON (${(error as Error).message})`);
    }
  }
  try {
    parseDeployment(manifest, AS_CHILD);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    const lines = error.issues.map((issue) => `  ${issue.path}: ${issue.message}`).join("\n");
    throw new ExitError(1, `Cannot deploy ${file} (code ${error.code}):\n${lines}`);
  }
  return manifest;
}

/**
 * Checked here as for a device below a parent: whether `$upstream` (the parent's registry) may be
 * used is for the device that runs the deployment to say.
 */
const AS_CHILD = { upstreamHost: "parent.invalid" } as const;

function settled(module: ModuleSummary): boolean {
  return module.status === "running" ||
    (module.status === "stopped" && module.desiredStatus === "stopped");
}

/**
 * A module in back-off is started again by the agent when its delay runs out: `--wait` waits
 * through it until `--timeout`, as `kubectl rollout status` waits through a pod's restarts. A
 * failed module (restartPolicy never, denied by policy) will not change, so it ends the wait.
 */
function retrying(module: ModuleSummary): boolean {
  return module.status === "backoff";
}

function progressLine(module: ModuleSummary): string {
  // Running modules print once; anything else prints whenever what it says changes.
  return module.status === "running"
    ? "running"
    : `${module.status}${module.description ? `: ${module.description}` : ""}`;
}

async function waitForConvergence(
  client: MgmtClient,
  version: number,
  timeoutSeconds: number,
): Promise<ModuleSummary[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const shown = new Map<string, string>();
  while (true) {
    const status = await answer(client.agent.v1.modules.$get());
    const modules = status.modules.filter((m) => !m.system);
    for (const module of modules) {
      const line = progressLine(module);
      if (shown.get(module.name) !== line) out(`${module.name}: ${line}`);
      shown.set(module.name, line);
    }
    const applied = status.version === version && !status.converging;
    const backingOff = modules.filter(retrying);
    if (applied && backingOff.length === 0) return modules;
    if (Date.now() > deadline) {
      const still = applied
        ? backingOff.map((m) => `${m.name} (${m.status}: ${m.description})`).join(", ")
        : "still applying";
      throw new ExitError(1, `Cannot converge within ${timeoutSeconds} s: ${still}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function deployToChild(
  client: MgmtClient,
  deviceId: string,
  manifest: unknown,
): Promise<{ modules: string[]; twins: string[] }> {
  const deployment = parseDeployment(manifest, AS_CHILD);
  const current = new Map<string, Record<string, unknown>>();
  for (const moduleId of Object.keys(deployment.manifest)) {
    const twin = await getTwin(client, { deviceId, moduleId });
    current.set(moduleId, twin.desired);
  }
  const patches = twinContentPatches(
    deployment.manifest,
    (moduleId) => current.get(moduleId) ?? {},
  );
  for (const { moduleId, patch } of patches) {
    await patchDesired(client, { deviceId, moduleId }, patch);
  }
  return {
    modules: deployment.modules.map((module) => module.name),
    twins: patches.map((patch) => patch.moduleId),
  };
}

/** Builds the `deploy` verb. */
export function deployCommand(): Command {
  return new Command("deploy")
    .description("apply an IoT Edge deployment manifest (deployment.json)")
    .argument("<file>", "the manifest: {modulesContent: {$edgeAgent, $edgeHub, \u2026}}")
    .option(
      "--wait",
      "show progress until every module runs, waiting through restart back-offs (exit 1 if one fails)",
    )
    .option("--timeout <seconds>", "how long --wait waits", "300")
    .option("--json", "print the daemon's answer as JSON")
    .option(
      "--device <id>",
      "deploy to a child edge device: set its $edgeAgent, $edgeHub and module twins here",
    )
    .option(
      "--no-rollback",
      "keep this deployment even if it does not run healthy within agent.rollback_after_seconds",
    )
    .action(async (file: string, options: DeployOptions, command: Command) => {
      const timeout = parseCount("--timeout", options.timeout);
      const manifest = await readManifest(file);
      if (options.device !== undefined) {
        if (options.wait) {
          throw new UsageError("--wait: not with --device; follow it with ledge list --device");
        }
        if (options.rollback === false) {
          throw new UsageError(
            "--no-rollback: not with --device (the child decides its own rollback)",
          );
        }
        const device = options.device;
        const result = await withDaemon(
          command,
          (client) => deployToChild(client, device, manifest),
        );
        if (options.json) return printJson({ device, ...result });
        out(
          `deployment for ${device} set: ${result.modules.join(", ") || "no modules"}` +
            (result.twins.length === 0
              ? " (no twin changed)"
              : ` (twins changed: ${result.twins.join(", ")})`),
        );
        out(`it runs when ${device} is connected; see ledge list --device ${device}`);
        return;
      }
      await withDaemon(command, async (client) => {
        const query = options.rollback === false ? { rollback: "false" as const } : {};
        const result = await answer(client.agent.v1.deployment.$put({ json: manifest, query }));
        if (options.json && !options.wait) return printJson(result);
        out(`deployment ${result.version} accepted: ${result.modules.join(", ") || "no modules"}`);
        for (const [name, reason] of Object.entries(result.denied)) out(`${name}: ${reason}`);
        if (!options.wait) return;
        const modules = await waitForConvergence(client, result.version, timeout);
        if (options.json) printJson(modules);
        const failing = modules.filter((m) => !settled(m));
        if (failing.length > 0) {
          throw new ExitError(
            1,
            `Cannot run ${
              failing.map((m) => `${m.name} (${m.status}: ${m.description})`).join(", ")
            }`,
          );
        }
        out(`deployment ${result.version} is running`);
      });
    });
}
