/**
 * The Azure IoT SDK for Node in tests/sdk: where it is, whether it is installed, and how to run
 * one of its scripts.
 */
import type { Requirement } from "./_services.ts";
import { commandAvailable } from "./_services.ts";
import { textOutput } from "./_ledge.ts";

/** The folder holding package.json, package-lock.json and the scripts. */
export const SDK_DIR = new URL("./sdk/", import.meta.url).pathname;

/** Node installed and `tests/sdk/node_modules` present. */
export async function sdkRequirement(): Promise<Requirement> {
  const node = await commandAvailable("node");
  if (node.missing) return node;
  try {
    await Deno.stat(`${SDK_DIR}node_modules/azure-iot-device`);
    return { what: "Azure IoT SDK", missing: undefined };
  } catch {
    return {
      what: "Azure IoT SDK",
      missing: "Azure IoT SDK not installed: npm ci --prefix tests/sdk",
    };
  }
}

/** Runs `node tests/sdk/<script>` with `env` only (plus PATH); resolves with its output. */
export async function runSdkScript(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("node", {
    args: [`${SDK_DIR}${script}`],
    cwd: SDK_DIR,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return textOutput(output);
}
