/**
 * Starts `ledge run` as a real subprocess with a temp state dir, and waits until it says it is
 * ready. Its listeners bind port 0 (any free port) and the ports they got are read from the
 * readiness record, so no other process can take them in between (no `freePort` race).
 */
import { lineSplitter } from "../daemon/console/log_stream.ts";
import { freePort } from "./_services.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;

/** A running `ledge run` subprocess. */
export interface LedgeProcess {
  readonly stateDir: string;
  readonly configPath: string;
  readonly ports: {
    mqtt: number;
    https: number;
    amqp: number;
    plain: number;
    metrics: number;
    console: number;
  };
  readonly child: Deno.ChildProcess;
  /** Every stderr line so far (JSON log records). */
  readonly logs: string[];
  /** Resolves with the first log line matching `pattern` (rejects after `timeoutMs`). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Runs `ledge <args>` against this daemon's config; resolves with code and output. */
  cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Sends `signal` and resolves with the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Options for {@linkcode startLedge}. */
export interface StartLedgeOptions {
  /** Extra TOML appended to the generated config (ports and state dir are set already). */
  extraConfig?: string;
  /** Reuse a state dir (e.g. to restart); defaults to a new temp dir. */
  stateDir?: string;
  env?: Record<string, string>;
  /** How long to wait for readiness. */
  readyTimeoutMs?: number;
  /** `deno run` flags before main.ts (e.g. the daemon's `--v8-flags=…`); default none. */
  denoFlags?: readonly string[];
  /** `[device] id` (default "test-device"). */
  deviceId?: string;
  /** Extra keys of the `[console]` table (its `listen` is set already), e.g. `tls = true`. */
  consoleConfig?: string;
  /**
   * Reuse ports (e.g. to restart where children point); by default every listener binds port 0
   * and {@linkcode LedgeProcess.ports} holds the ports it got.
   */
  ports?: LedgeProcess["ports"];
  /** The command line before `run` (default: this Deno running main.ts), e.g. a built executable. */
  command?: readonly string[];
  /** Start from an empty environment: only `env` and LEDGE_CONFIG (default: inherit). */
  clearEnv?: boolean;
  /** `[log] level` (default "debug"; a load test that logs every connect wants "info"). */
  logLevel?: string;
}

// Deno's own line when parallel `deno run`s of this checkout wait on node_modules' lock: the
// development setup talking, not ledge (a binary or the bundle has no node_modules).
const DENO_LOCK_WAIT = /^\S*Blocking\S* waiting for file lock on .*\n/gm;

/** `stderr` without Deno's node_modules lock-wait lines. */
export function withoutDenoLockWaits(stderr: string): string {
  return stderr.replace(DENO_LOCK_WAIT, "");
}

/** Runs `ledge` with `args` (no daemon), as the user would. */
export async function runLedge(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    env: options.env ?? {},
    cwd: options.cwd ?? ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  return textOutput(output);
}

/** A finished command's exit code and its output as text. */
export function textOutput(
  output: Deno.CommandOutput,
): { code: number; stdout: string; stderr: string } {
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: withoutDenoLockWaits(decoder.decode(output.stderr)),
  };
}

/** Starts `ledge run` and waits for its readiness line. */
export async function startLedge(options: StartLedgeOptions = {}): Promise<LedgeProcess> {
  const stateDir = options.stateDir ?? await Deno.makeTempDir({ prefix: "ledge-test-" });
  const configured = options.ports ??
    { mqtt: 0, https: 0, amqp: 0, plain: 0, metrics: 0, console: 0 };
  const configPath = `${stateDir}.toml`;
  await Deno.writeTextFile(
    configPath,
    [
      `[state]\ndir = "${stateDir}"`,
      `[device]\nid = "${
        options.deviceId ?? "test-device"
      }"\nhostname = "localhost"\niothub_hostname = "localhost"`,
      `[log]\nlevel = "${options.logLevel ?? "debug"}"\nformat = "json"`,
      `[hub.mqtt]\nport = ${configured.mqtt}`,
      `[hub.https]\nport = ${configured.https}`,
      `[hub.amqp]\nport = ${configured.amqp}`,
      `[hub.plain]\nport = ${configured.plain}`,
      `[metrics]\nlisten = "127.0.0.1:${configured.metrics}"`,
      `[console]\nlisten = "127.0.0.1:${configured.console}"\n${options.consoleConfig ?? ""}`,
      options.extraConfig ?? "",
    ].join("\n"),
  );
  const env = { ...options.env, LEDGE_CONFIG: configPath };
  const [program, ...prefix] = options.command ??
    [Deno.execPath(), "run", "--allow-all", ...(options.denoFlags ?? []), MAIN];
  const child = new Deno.Command(program!, {
    args: [...prefix, "run"],
    env,
    clearEnv: options.clearEnv ?? false,
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).spawn();

  const logs: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const reading = (async () => {
    const lines = child.stderr.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines());
    for await (const line of lines) {
      logs.push(line);
      for (const waiter of waiters) {
        if (waiter.pattern.test(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    }
  })();

  function waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const seen = logs.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        pattern,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${logs.join("\n")}`),
        );
      }, timeoutMs);
      waiters.add(waiter);
    });
  }

  let status: Promise<Deno.CommandStatus> | undefined;
  const ports = { ...configured };
  const process: LedgeProcess = {
    stateDir,
    configPath,
    ports,
    child,
    logs,
    waitForLog,
    cli: (args) => runLedge(args, { env: { LEDGE_CONFIG: configPath } }),
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!status) {
        try {
          child.kill(signal);
        } catch {
          // already exited
        }
        status = child.status;
      }
      const result = await status;
      await reading;
      return result;
    },
  };
  let ready = false;
  const exitedEarly = child.status.then(async (s) => {
    if (ready) return;
    await reading; // the exit can be seen before the last stderr lines are read
    throw new Error(`ledge exited with ${s.code} before ready:\n${logs.join("\n")}`);
  });
  exitedEarly.catch(() => {}); // observed by the race below; later exits are not errors
  try {
    const readyLine = await Promise.race([
      waitForLog(/ledge is ready/, options.readyTimeoutMs ?? 60_000),
      exitedEarly,
    ]);
    ready = true;
    Object.assign(ports, boundPorts(readyLine as string, configured));
  } catch (error) {
    await process.stop("SIGKILL");
    throw error;
  }
  return process;
}

/**
 * The ports a restart of `ledge` must keep: MQTT and HTTPS, where children, modules and leaf
 * devices point. The others bind port 0 again: a port the kernel handed out from its ephemeral
 * range can be taken by any outgoing connection while the process is down.
 */
export function portsToKeep(ledge: Pick<LedgeProcess, "ports">): LedgeProcess["ports"] {
  return {
    mqtt: ledge.ports.mqtt,
    https: ledge.ports.https,
    amqp: 0,
    plain: 0,
    metrics: 0,
    console: 0,
  };
}

/**
 * Ports for the first start of a ledge that a test restarts with {@linkcode portsToKeep}: MQTT
 * and HTTPS from {@linkcode freePort} (below the kernel's ephemeral range, claimed for the tests),
 * since a port that `bind(0)` handed out can be handed to another process's `bind(0)` while this
 * ledge is down, and its restart would then fail with EADDRINUSE. The others bind port 0.
 */
export function restartablePorts(): LedgeProcess["ports"] {
  return { mqtt: freePort(), https: freePort(), amqp: 0, plain: 0, metrics: 0, console: 0 };
}

/** The ports a readiness record reports, by the names of {@linkcode LedgeProcess.ports}. */
export function boundPorts(
  readyLine: string,
  configured: LedgeProcess["ports"],
): LedgeProcess["ports"] {
  const listeners = (JSON.parse(readyLine) as { listeners?: Record<string, number> }).listeners ??
    {};
  return {
    mqtt: listeners.mqtts ?? configured.mqtt,
    https: listeners.https ?? configured.https,
    amqp: listeners.amqps ?? configured.amqp,
    plain: listeners.plain ?? configured.plain,
    metrics: listeners.metrics ?? configured.metrics,
    console: listeners.console ?? configured.console,
  };
}

/** Splits a text stream into lines (the console's splitter, which also drops `\r`). */
export const splitLines = lineSplitter;
