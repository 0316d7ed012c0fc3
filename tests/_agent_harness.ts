/**
 * An agent on a temporary state dir for integration tests, with the real security component,
 * talking through the agent's management routes, and cleaning up every container it owned.
 */
import { type AgentComponent, createAgentComponent, type EdgeAgentReported } from "../agent/mod.ts";
import { INSTANCE_LABEL, ledgeInstanceId } from "../agent/engine/labels.ts";
import type { ModuleSummary } from "../agent/agent.ts";
import type { Config } from "../core/config.ts";
import { parseConfigText } from "../core/config_load.ts";
import { type Logger, silentLogger } from "../core/log.ts";
import { createMgmtApp } from "../daemon/mgmt_server.ts";
import { createSecurityComponent, type SecurityComponentWithControl } from "../security/mod.ts";
import { removeContainersLabelled, type TestEngine } from "./_engines.ts";
import { waitFor } from "./_wait.ts";

/** A running agent under test. */
export interface AgentHarness {
  readonly stateDir: string;
  readonly config: Config;
  readonly instance: string;
  agent(): AgentComponent["agent"];
  security(): SecurityComponentWithControl;
  /** Calls the agent's management routes; resolves with the JSON body, throws on non-2xx. */
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  modules(): Promise<ModuleSummary[]>;
  /** Waits until the deployment converged and `check` holds for the module rows. */
  settle(
    check: (rows: Map<string, ModuleSummary>) => boolean,
    what: string,
  ): Promise<Map<string, ModuleSummary>>;
  /** Stops the agent and security (containers keep running), then starts new ones on the same state. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Stops everything, removes this instance's containers and the state dir. */
  dispose(): Promise<void>;
}

/** Options of {@linkcode startAgentHarness}. */
export interface HarnessOptions {
  engine?: TestEngine;
  /** Extra TOML appended to the test config. */
  toml?: string;
  /** Where the agent logs (default: nowhere). */
  logger?: Logger;
}

/** Starts security + agent on a fresh state dir. */
export async function startAgentHarness(options: HarnessOptions = {}): Promise<AgentHarness> {
  const stateDir = await Deno.makeTempDir({ prefix: "ledge-agent-test-" });
  const engineToml = options.engine
    ? `engine = "docker"\nengine_socket = "${options.engine.socketPath}"`
    : `engine = "none"`;
  const config = parseConfigText(
    `[state]\ndir = "${stateDir}"\n[device]\nid = "edge-test"\nhostname = "ledge-gateway"\niothub_hostname = "ledge-hub.example"\n[agent]\n${engineToml}\nbackoff_base_seconds = 1\nbackoff_max_seconds = 4\n${
      options.toml ?? ""
    }`,
    { uid: 1000, hostname: "test", env: {} },
  );
  const context = { config, stateDir, logger: options.logger ?? silentLogger };
  const instance = ledgeInstanceId(stateDir);
  let security: SecurityComponentWithControl | undefined;
  let component: AgentComponent | undefined;

  async function start() {
    security = createSecurityComponent(context);
    await security.start(new AbortController().signal);
    component = createAgentComponent(context, { provisioner: security.manager });
    await component.start(new AbortController().signal);
  }

  async function stop() {
    await component?.stop();
    await security?.stop();
    component = undefined;
    security = undefined;
  }

  async function api<T>(method: string, path: string, body?: unknown) {
    if (!component) throw new Error("Cannot call the API: the agent is stopped");
    // The management app maps errors to statuses exactly as the daemon's socket does.
    const response = await createMgmtApp([component], silentLogger).request(path, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const json = response.headers.get("content-type")?.includes("json");
    const answer = (json ? await response.json() : await response.text()) as T;
    return { status: response.status, body: answer };
  }

  async function modules() {
    const { body } = await api<{ modules: ModuleSummary[] }>("GET", "/v1/modules");
    return body.modules;
  }

  await start();
  return {
    stateDir,
    config,
    instance,
    agent: () => component!.agent,
    security: () => security!,
    api,
    modules,
    async settle(check, what) {
      let rows = new Map<string, ModuleSummary>();
      let converging = true;
      await waitFor(what, async () => {
        const { body } = await api<{ converging: boolean; modules: ModuleSummary[] }>(
          "GET",
          "/v1/modules",
        );
        converging = body.converging;
        rows = new Map(body.modules.map((m) => [m.name, m]));
        return !converging && check(rows);
      }, {
        timeoutMs: 90_000,
        describe: () => ({
          converging,
          modules: [...rows.values()].map((r) => `${r.name}: ${r.status} ${r.description}`),
        }),
      });
      return rows;
    },
    async restart() {
      await stop();
      await start();
    },
    stop,
    async dispose() {
      await stop();
      if (options.engine) {
        await removeContainersLabelled(options.engine, `${INSTANCE_LABEL}=${instance}`);
      }
      await Deno.remove(stateDir, { recursive: true });
    },
  };
}

/** The reported module of `name`, or throws. */
export function reportedModule(reported: EdgeAgentReported, name: string) {
  const module = reported.modules[name];
  if (!module) throw new Error(`Cannot find ${name} in the reported properties`);
  return module;
}

/** A module that says who it is, then idles until SIGTERM. */
export const MODULE_SH = `#!/bin/sh
echo "module $IOTEDGE_MODULEID started with COLOR=$COLOR"
trap 'echo "module $IOTEDGE_MODULEID stopping"; exit 0' TERM INT
while :; do sleep 1 & wait $!; done
`;
