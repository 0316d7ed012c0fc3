/**
 * `deno task start`: runs ledge on its embedded defaults (or `LEDGE_CONFIG`) and shows the
 * quickstart: it installs the example modules' npm dependencies when they are missing, starts
 * `ledge run`, waits until it answers, and — if this state dir has never accepted a deployment —
 * deploys `deployment.json` (two process modules; no container engine needed). It then stays in
 * the foreground with ledge's logs; Ctrl-C (or SIGTERM) stops ledge cleanly.
 *
 * Options: `--containers` deploys `deployment.containers.json` instead (build its image first
 * with build_image.sh); `--manifest FILE` deploys FILE instead of either (e.g. a copy with other
module names, as the tests use on an engine shared with other runs); `--print-manifest` prints
the manifest as it would be deployed and exits.
 * Any other argument is passed on to `ledge run` (e.g. `--log-level debug`).
 *
 * @module
 */
import { answer, createMgmtClient, MgmtError } from "../../cli/_client.ts";
import { loadConfig } from "../../core/config_load.ts";
import { hubAddress, resolveManifest } from "./resolve_manifest.ts";
import { DAEMON_V8_FLAGS } from "../../core/v8_flags.ts";

const HERE = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const READY_TIMEOUT_MS = 60_000;

function say(line: string): void {
  console.error(`quickstart: ${line}`);
}

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** Installs the SDK next to the modules unless it is there; false when that is impossible. */
async function ensureModulesInstalled(): Promise<boolean> {
  if (!await succeeds("node", ["--version"])) {
    say("node is not installed: running ledge without the example modules");
    return false;
  }
  const installed = await Deno.stat(
    `${HERE}/node_modules/azure-iot-device/package.json`,
  ).then(
    () => true,
    () => false,
  );
  if (installed) return true;
  say("installing the Azure IoT SDK for the example modules (npm ci, once)…");
  const { success, stderr } = await new Deno.Command("npm", {
    args: [
      "ci",
      "--prefix",
      HERE,
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output().catch((error: Error) => ({
    success: false,
    stderr: new TextEncoder().encode(error.message),
  }));
  if (!success) {
    const reason = new TextDecoder().decode(stderr).trim().split("\n").slice(-3)
      .join(" ");
    say(`cannot install the example modules' dependencies (npm ci): ${reason}`);
    return false;
  }
  return true;
}

async function readManifest(file: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(file));
}

/** Waits for the daemon's health answer; resolves with its bound listeners, or undefined. */
async function waitUntilReady(
  stateDir: string,
  exited: Promise<Deno.CommandStatus>,
): Promise<Record<string, number> | undefined> {
  let done = false;
  exited.then(() => done = true);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const client = createMgmtClient(stateDir);
  try {
    while (!done && Date.now() < deadline) {
      try {
        const health = await answer(client.system.v1.health.$get());
        return health.listeners;
      } catch (error) {
        if (!(error instanceof MgmtError) || error.status !== 0) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return undefined;
  } finally {
    client.close();
  }
}

async function deployOnce(
  stateDir: string,
  manifestFile: string,
  manifest: unknown,
) {
  const client = createMgmtClient(stateDir);
  try {
    const status = await answer(client.agent.v1.deployment.$get());
    if (status.version !== undefined) {
      say(
        `this state dir already runs deployment ${status.version}; leaving it as it is ` +
          `(to apply the quickstart again: ledge deploy ${manifestFile})`,
      );
      return;
    }
    const result = await answer(client.agent.v1.deployment.$put({ json: manifest, query: {} }));
    say(
      `deployed ${manifestFile}: ${result.modules.join(", ")} (deployment ${result.version})`,
    );
    say(
      "in another terminal: `deno run -A main.ts list` shows both modules, " +
        "`deno run -A main.ts logs filter -f` the readings above 25 °C",
    );
  } catch (error) {
    const detail = error instanceof MgmtError && error.detail !== undefined
      ? ` ${JSON.stringify(error.detail)}`
      : "";
    say(`cannot deploy ${manifestFile}: ${(error as Error).message}${detail}`);
  } finally {
    client.close();
  }
}

/** The quickstart's own options; everything else goes on to `ledge run`. */
function readOptions(
  args: string[],
): { containers: boolean; printOnly: boolean; manifest: string | undefined; passOn: string[] } {
  const options = {
    containers: false,
    printOnly: false,
    manifest: undefined as string | undefined,
    passOn: [] as string[],
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--containers") options.containers = true;
    else if (arg === "--print-manifest") options.printOnly = true;
    else if (arg === "--manifest" && i + 1 < args.length) options.manifest = args[++i];
    else options.passOn.push(arg);
  }
  return options;
}

async function main(args: string[]): Promise<number> {
  const { containers, printOnly, manifest: given, passOn } = readOptions(args);
  const { config, path } = await loadConfig();
  const manifestFile = given ??
    `${HERE}/${containers ? "deployment.containers.json" : "deployment.json"}`;
  const raw = await readManifest(manifestFile);
  if (printOnly) {
    console.log(
      JSON.stringify(resolveManifest(raw, { dir: HERE, hub: hubAddress(config) }), null, 2),
    );
    return 0;
  }
  const modulesReady = containers || await ensureModulesInstalled();
  say(
    `starting ledge (${path ? `config ${path}` : "embedded defaults"}, state ${config.state.dir})`,
  );
  // A session of its own, so a Ctrl-C reaches ledge once, from here, and stops it cleanly.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `--v8-flags=${DAEMON_V8_FLAGS}`, MAIN, "run", ...passOn],
    stdin: "null",
    detached: true,
  }).spawn();
  const exited = child.status;
  let signalled = 0;
  const forward = (signal: Deno.Signal) => () => {
    signalled += 1;
    try {
      child.kill(signalled > 1 ? "SIGKILL" : signal);
    } catch { /* already gone */ }
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const handler = forward(signal);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  try {
    const listeners = await waitUntilReady(config.state.dir, exited);
    if (listeners) {
      if (modulesReady && signalled === 0) {
        const manifest = resolveManifest(raw, { dir: HERE, hub: hubAddress(config, listeners) });
        await deployOnce(config.state.dir, manifestFile, manifest);
      }
    } else if (signalled === 0) {
      say(
        `ledge did not answer on ${config.state.dir}/mgmt.sock within ${READY_TIMEOUT_MS / 1000} s`,
      );
    }
    return (await exited).code;
  } finally {
    for (const [signal, handler] of handlers) {
      Deno.removeSignalListener(signal, handler);
    }
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
