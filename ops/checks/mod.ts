/**
 * `ledge check`'s checks, like `iotedge check`: each looks at one thing, says ok, warning or error and how to
 * fix it. They only read; none changes anything.
 *
 * @module
 */
import { currentDefaultsContext } from "../../core/config.ts";
import { ConfigError, loadConfig } from "../../core/config_load.ts";
import { type Check, type CheckContext, type CheckResult, runChecks } from "./check.ts";
import { clockCheck, diskCheck, dnsCheck, portsCheck, stateDirCheck } from "./host_checks.ts";
import { certificatesCheck, daemonCheck, engineCheck, upstreamCheck } from "./service_checks.ts";

export type { Check, CheckContext, CheckResult, CheckStatus } from "./check.ts";
export { runChecks } from "./check.ts";

/** Every check after the config's, in the order they print. */
export const CHECKS: readonly Check[] = [
  daemonCheck,
  stateDirCheck,
  clockCheck,
  certificatesCheck,
  engineCheck,
  dnsCheck,
  portsCheck,
  diskCheck,
  upstreamCheck,
];

/** Reads a JSON route of the daemon serving `stateDir`. */
async function daemonGet(stateDir: string, path: string): Promise<unknown> {
  const client = Deno.createHttpClient({
    proxy: { transport: "unix", path: `${stateDir}/mgmt.sock` },
  });
  try {
    const response = await fetch(`http://ledge${path}`, {
      client,
      signal: AbortSignal.timeout(3000),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(`${path}: ${body?.error ?? response.status}`);
    return body;
  } finally {
    client.close();
  }
}

/** Loads the config (its own check) and runs every check. */
export async function checkAll(
  options: { configPath?: string | undefined; now?: Date } = {},
): Promise<CheckResult[]> {
  const defaults = currentDefaultsContext();
  const configResult: CheckResult = {
    id: "config",
    title: "configuration",
    status: "ok",
    message: "",
  };
  let config;
  try {
    const loaded = await loadConfig({ path: options.configPath, context: defaults });
    config = loaded.config;
    configResult.message = loaded.path
      ? `${loaded.path} is valid`
      : "no file: the embedded defaults";
  } catch (error) {
    configResult.status = "error";
    configResult.message = error instanceof ConfigError
      ? error.issues.join("; ")
      : (error as Error).message;
    configResult.fix = "fix the keys named; `ledge init --stdout` shows every key with its default";
  }
  const running = config
    ? await daemonGet(config.state.dir, "/v1/health").then(() => true, () => false)
    : false;
  const context: CheckContext = {
    config,
    daemonRunning: running,
    ...(running && config
      ? { daemonGet: (path: string) => daemonGet(config.state.dir, path) }
      : {}),
    env: defaults.env,
    now: options.now ?? new Date(),
  };
  return [configResult, ...await runChecks(CHECKS, context)];
}
