/**
 * What goes into a support bundle, gathered from wherever it can be had: the daemon's
 * management API (status, identities without keys, certificates, module logs), the metrics
 * listener, `ledge check`, journald for ledge's own logs, and the files in the state dir when the
 * daemon is down. Whatever cannot be had is listed with the reason instead of failing the bundle.
 */
import { checkAll } from "../checks/mod.ts";
import type { Config } from "../../core/config.ts";
import { mgmtSocketPath } from "../../core/state_dir.ts";
import { currentTarget, VERSION } from "../../core/version.ts";
import { redactConfig } from "./redact.ts";

/** A file of the bundle, before secrets are scrubbed. */
export interface SupportFile {
  /** Path inside the bundle's folder. */
  path: string;
  text: string;
}

/** Something the bundle lacks, and why. */
export interface SupportGap {
  item: string;
  reason: string;
}

/** What {@linkcode collectSupportFiles} gathers from. */
export interface CollectOptions {
  config: Config;
  /** The config file read, or undefined for the embedded defaults. */
  configPath: string | undefined;
  /** Only logs since this time (Unix seconds). */
  sinceSeconds: number;
  /** Reads ledge's own logs since a time; undefined text means there are none to read. */
  ownLogs?: (sinceSeconds: number) => Promise<{ text?: string; reason?: string }>;
}

/** Module status as `GET /v1/modules` answers it (the fields the bundle uses). */
interface ModulesAnswer {
  modules: { name: string; system?: boolean }[];
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function journal(sinceSeconds: number): Promise<{ text?: string; reason?: string }> {
  try {
    const { success, stdout, stderr } = await new Deno.Command("journalctl", {
      args: ["-u", "ledge", "--since", `@${sinceSeconds}`, "--no-pager", "-o", "short-iso"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    if (!success) {
      return { reason: `journalctl failed: ${new TextDecoder().decode(stderr).trim()}` };
    }
    if (text.trim() === "" || /^-- No entries --$/m.test(text)) {
      return { reason: "journald has no entries for the ledge unit (not run under systemd?)" };
    }
    return { text };
  } catch {
    return { reason: "journalctl not found: ledge is not run under systemd here" };
  }
}

/** ledge's own logs: the running daemon's ring of records, else journald. */
async function daemonLogs(
  daemon: ReturnType<typeof mgmtReader>,
  sinceSeconds: number,
): Promise<{ text?: string; reason?: string }> {
  try {
    const text = await daemon.text(`/v1/logs?since=${sinceSeconds}`);
    if (text !== "") return { text };
  } catch {
    // not running: journald may still have them
  }
  return await journal(sinceSeconds);
}

/** A minimal client of the management socket; `undefined` status means it cannot be reached. */
function mgmtReader(stateDir: string) {
  const socketPath = mgmtSocketPath(stateDir);
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  async function get(path: string): Promise<Response> {
    try {
      return await fetch(`http://ledge${path}`, { client, signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      const denied = /permission/i.test(String((error as Error).cause ?? error));
      const hint = denied ? "permission denied" : "is `ledge run` running?";
      throw new Error(`Cannot reach ledge at ${socketPath}: ${hint}`, { cause: error });
    }
  }
  return {
    async text(path: string): Promise<string> {
      const response = await get(path);
      const body = await response.text();
      if (!response.ok) {
        let message = `HTTP ${response.status}`;
        try {
          message = JSON.parse(body).error ?? message;
        } catch { /* not JSON */ }
        throw new Error(message);
      }
      return body;
    },
    close: () => client.close(),
  };
}

const STATUS_ROUTES: readonly [string, string][] = [
  ["status/modules.json", "/v1/modules"],
  ["status/deployment.json", "/v1/deployment"],
  ["status/identities.json", "/v1/identities"],
  ["status/certificates.json", "/v1/certificates"],
  ["status/queues.json", "/v1/queues"],
  ["status/hub_stats.json", "/v1/hub/stats"],
  ["status/upstream.json", "/v1/upstream"],
];

/** The lines of a process module's log file (each starts with its time) since `sinceSeconds`. */
export function linesSince(text: string, sinceSeconds: number): string {
  const lines = text.split("\n");
  const first = lines.findIndex((line) => {
    const ms = Date.parse(line.slice(0, line.indexOf(" ")));
    return !Number.isNaN(ms) && ms >= sinceSeconds * 1000;
  });
  return first < 0 ? "" : lines.slice(first).join("\n");
}

async function moduleLogsFromFiles(
  stateDir: string,
  sinceSeconds: number,
  files: SupportFile[],
  gaps: SupportGap[],
) {
  const dir = `${stateDir}/agent/logs`;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".log")) continue;
      const text = await Deno.readTextFile(`${dir}/${entry.name}`);
      files.push({ path: `logs/modules/${entry.name}`, text: linesSince(text, sinceSeconds) });
    }
  } catch (error) {
    gaps.push({ item: "process modules' log files", reason: `${dir}: ${reasonOf(error)}` });
  }
}

async function statusFromDaemon(
  daemon: ReturnType<typeof mgmtReader>,
  options: { health: string; sinceSeconds: number },
  files: SupportFile[],
  gaps: SupportGap[],
): Promise<void> {
  files.push({ path: "status/health.json", text: options.health });
  let modules: ModulesAnswer["modules"] = [];
  for (const [path, route] of STATUS_ROUTES) {
    try {
      const text = await daemon.text(route);
      files.push({ path, text });
      if (route === "/v1/modules") modules = (JSON.parse(text) as ModulesAnswer).modules;
    } catch (error) {
      gaps.push({ item: `${path} (GET ${route})`, reason: reasonOf(error) });
    }
  }
  for (const module of modules.filter((m) => !m.system)) {
    const name = encodeURIComponent(module.name);
    const route = `/v1/modules/${name}/logs?since=${options.sinceSeconds}&timestamps=true`;
    try {
      files.push({ path: `logs/modules/${module.name}.log`, text: await daemon.text(route) });
    } catch (error) {
      gaps.push({ item: `logs of module ${module.name}`, reason: reasonOf(error) });
    }
  }
}

/**
 * Gathers every file of the bundle (not yet scrubbed of secrets) and the list of what is missing.
 */
export async function collectSupportFiles(
  options: CollectOptions,
): Promise<{ files: SupportFile[]; gaps: SupportGap[] }> {
  const { config } = options;
  const files: SupportFile[] = [];
  const gaps: SupportGap[] = [];
  files.push({
    path: "version.json",
    text: json({
      ledge: VERSION,
      deno: Deno.version.deno,
      target: currentTarget(),
      collectedAt: new Date().toISOString(),
      since: new Date(options.sinceSeconds * 1000).toISOString(),
    }),
  });
  files.push({
    path: "config.json",
    text: json({ path: options.configPath ?? null, config: redactConfig(config) }),
  });

  const daemon = mgmtReader(config.state.dir);
  const own = await (options.ownLogs ?? ((since) => daemonLogs(daemon, since)))(
    options.sinceSeconds,
  );
  if (own.text !== undefined) files.push({ path: "logs/ledge.log", text: own.text });
  else gaps.push({ item: "ledge's own logs", reason: own.reason ?? "none" });

  let health: string | undefined;
  try {
    try {
      health = await daemon.text("/v1/health");
    } catch (error) {
      gaps.push({
        item: "status, identities, certificates, queues, upstream and module logs",
        reason: reasonOf(error),
      });
    }
    if (health === undefined) {
      await moduleLogsFromFiles(config.state.dir, options.sinceSeconds, files, gaps);
    } else {await statusFromDaemon(
        daemon,
        { health, sinceSeconds: options.sinceSeconds },
        files,
        gaps,
      );}
  } finally {
    daemon.close();
  }

  if (config.metrics.enabled) {
    const url = metricsUrl(config.metrics.listen, health);
    try {
      if (url === undefined) throw new TypeError("port 0 and no daemon to say which it bound");
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const text = await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      files.push({ path: "metrics.txt", text });
    } catch (error) {
      const reason = error instanceof TypeError ? "nothing answers there" : reasonOf(error);
      gaps.push({ item: `metrics (${url ?? `http://${config.metrics.listen}/metrics`})`, reason });
    }
  } else {
    gaps.push({ item: "metrics", reason: "metrics.enabled is false" });
  }

  try {
    files.push({
      path: "check.json",
      text: json(await checkAll({ configPath: options.configPath })),
    });
  } catch (error) {
    gaps.push({ item: "ledge check", reason: reasonOf(error) });
  }
  return { files, gaps };
}

/** Where the metrics are: `listen`, with the port the daemon bound when the config says 0. */
function metricsUrl(listen: string, health: string | undefined): string | undefined {
  const at = listen.lastIndexOf(":");
  let port = Number(listen.slice(at + 1));
  if (port === 0 && health !== undefined) {
    port = (JSON.parse(health) as { listeners?: Record<string, number> }).listeners?.metrics ?? 0;
  }
  return port === 0 ? undefined : `http://${listen.slice(0, at)}:${port}/metrics`;
}
