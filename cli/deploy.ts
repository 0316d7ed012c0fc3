/**
 * `ledge deploy <file> [--wait] [--timeout S]`: validates an IoT Edge deployment manifest
 * locally, hands it to the daemon, and with `--wait` shows each module's progress until the
 * deployment converged (exit 0) or a module failed or the time ran out (exit 1).
 */
import { Command } from "commander";
import type { DeployResult, ModuleSummary } from "../agent/mod.ts";
import { ManifestError, parseDeployment } from "../agent/mod.ts";
import { ExitError, out, parseCount, printJson, withDaemon } from "./_shared.ts";
import type { MgmtClient } from "./_client.ts";

interface DeployOptions {
  wait?: boolean;
  timeout: string;
  json?: boolean;
}

interface ModulesAnswer {
  version: number | undefined;
  converging: boolean;
  modules: ModuleSummary[];
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
    parseDeployment(manifest);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    const lines = error.issues.map((issue) => `  ${issue.path}: ${issue.message}`).join("\n");
    throw new ExitError(1, `Cannot deploy ${file} (code ${error.code}):\n${lines}`);
  }
  return manifest;
}

function settled(module: ModuleSummary): boolean {
  return module.status === "running" ||
    (module.status === "stopped" && module.desiredStatus === "stopped");
}

async function waitForConvergence(
  client: MgmtClient,
  version: number,
  timeoutSeconds: number,
): Promise<ModuleSummary[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const shown = new Map<string, string>();
  while (true) {
    const answer = await client.request<ModulesAnswer>("GET", "/v1/modules");
    const modules = answer.modules.filter((m) => !m.system);
    for (const module of modules) {
      // Running modules print once; anything else prints whenever what it says changes.
      const line = module.status === "running"
        ? "running"
        : `${module.status}${module.description ? `: ${module.description}` : ""}`;
      if (shown.get(module.name) !== line) out(`${module.name}: ${line}`);
      shown.set(module.name, line);
    }
    if (answer.version === version && !answer.converging) return modules;
    if (Date.now() > deadline) {
      throw new ExitError(1, `Cannot converge within ${timeoutSeconds} s: still applying`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Builds the `deploy` verb. */
export function deployCommand(): Command {
  return new Command("deploy")
    .description("apply an IoT Edge deployment manifest (deployment.json)")
    .argument("<file>", "the manifest: {modulesContent: {$edgeAgent, $edgeHub, …}}")
    .option("--wait", "show progress until every module runs (exit 1 if one fails)")
    .option("--timeout <seconds>", "how long --wait waits", "300")
    .option("--json", "print the daemon's answer as JSON")
    .action(async (file: string, options: DeployOptions, command: Command) => {
      const timeout = parseCount("--timeout", options.timeout);
      const manifest = await readManifest(file);
      await withDaemon(command, async (client) => {
        const result = await client.request<DeployResult>("PUT", "/v1/deployment", manifest);
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
