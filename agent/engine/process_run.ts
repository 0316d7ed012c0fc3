/**
 * One run of a process module: spawned in its own process group with a clean environment, its
 * output captured line by line into the module's log buffer and file, its exit recorded; and
 * halted with SIGTERM to the group, SIGKILL after the timeout.
 */
import type { ModuleInstance } from "../module_instance.ts";
import { splitLines } from "./docker_stream.ts";
import { type CreateRequest, EngineError } from "./driver.ts";
import type { LogBuffer } from "./log_buffer.ts";

/** A process module the driver holds: created, running or exited. */
export interface ProcessEntry {
  instance: ModuleInstance;
  request: CreateRequest;
  log: LogBuffer;
  child?: Deno.ChildProcess | undefined;
  exited?: Promise<void>;
  /** Ends followers when the run ends. */
  runEnded: Set<() => void>;
}

/** What a run needs from its driver. */
export interface RunContext {
  /** The variables of ledge's own environment a process inherits. */
  inheritEnv: readonly string[];
  /** Opens the module's log file for appending. */
  openLogFile(name: string): Promise<Deno.FsFile>;
  /** Whether the driver closed meanwhile (then nothing is spawned). */
  closed(): boolean;
  /** Tells the driver's event listeners. */
  emit(entry: ProcessEntry, action: string): void;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** How long output is still read after the process exited (a grandchild may hold the pipes). */
const DRAIN_GRACE_MS = 500;

function environmentOf(entry: ProcessEntry, inherit: readonly string[]): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of inherit) {
    const value = Deno.env.get(name);
    if (value !== undefined) environment[name] = value;
  }
  return Object.assign(environment, entry.request.env);
}

/** A read of a quiet process holds a 2 KiB buffer; one that filled it is followed by 64 KiB. */
const QUIET_READ_BYTES = 2 * 1024;
const BUSY_READ_BYTES = 64 * 1024;

/**
 * `stream` read into buffers sized to the output. Deno's own reads allocate 64 KiB each, held for
 * as long as the read waits: two per process module, so 100 quiet modules held 12.5 MB of RSS.
 */
export function sizedReads(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = stream.getReader({ mode: "byob" });
  let size = QUIET_READ_BYTES;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read(new Uint8Array(size));
      if (done || value === undefined) {
        controller.close();
        return;
      }
      size = value.byteLength === size ? BUSY_READ_BYTES : QUIET_READ_BYTES;
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

async function capture(entry: ProcessEntry, stream: ReadableStream<Uint8Array>, file: Deno.FsFile) {
  const encoder = new TextEncoder();
  for await (const line of sizedReads(stream).pipeThrough(splitLines())) {
    const time = Date.now();
    entry.log.append(line, time);
    await file.write(encoder.encode(`${new Date(time).toISOString()} ${line}\n`)).catch(() => {});
  }
}

/**
 * Starts the module's process.
 *
 * @throws {EngineError} when the driver is closed or the command cannot be spawned.
 */
export async function runProcess(entry: ProcessEntry, context: RunContext): Promise<void> {
  const module = entry.request.module;
  const settings = module.process;
  if (!settings) throw new TypeError(`Cannot start ${module.name}: it is not a process module`);
  const env = environmentOf(entry, context.inheritEnv);
  // Open the log before spawning, so no await separates the spawn from recording the child.
  const file = await context.openLogFile(module.name);
  if (context.closed()) {
    file.close();
    throw new EngineError(`Cannot start ${module.name}: the process driver is closed`, 503);
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(settings.command, {
      args: settings.args,
      ...(settings.workdir ? { cwd: settings.workdir } : {}),
      env,
      clearEnv: true,
      // Its own process group, so a stop reaches the children a script starts too.
      detached: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    file.close();
    const reason = error instanceof Error ? error.message : String(error);
    entry.instance = { ...entry.instance, error: reason };
    throw new EngineError(`Cannot start ${module.name}: ${settings.command}: ${reason}`, 500, {
      cause: error,
    });
  }
  entry.child = child;
  entry.instance = {
    ...entry.instance,
    state: "running",
    startedAt: Date.now(),
    exitCode: 0,
    error: "",
  };
  entry.exited = recordExit(entry, child, file, context);
  context.emit(entry, "start");
}

async function recordExit(
  entry: ProcessEntry,
  child: Deno.ChildProcess,
  file: Deno.FsFile,
  context: RunContext,
): Promise<void> {
  const captured = Promise.all([
    capture(entry, child.stdout, file),
    capture(entry, child.stderr, file),
  ]);
  const status = await child.status;
  let grace: ReturnType<typeof setTimeout> | undefined;
  const drained = await Promise.race([
    captured.then(() => true, () => true),
    new Promise<false>((resolve) => (grace = setTimeout(() => resolve(false), DRAIN_GRACE_MS))),
  ]);
  clearTimeout(grace);
  if (!drained) {
    await Promise.all([
      child.stdout.cancel().catch(() => {}),
      child.stderr.cancel().catch(() => {}),
    ]);
    await captured.catch(() => {});
  }
  file.close();
  const code = status.signal ? 128 + (SIGNALS[status.signal] ?? 0) : status.code;
  entry.child = undefined;
  entry.instance = { ...entry.instance, state: "exited", exitCode: code, finishedAt: Date.now() };
  for (const end of entry.runEnded) end();
  entry.runEnded.clear();
  context.emit(entry, "die");
}

function signalGroup(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    Deno.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Stops the run: SIGTERM to its group, SIGKILL after `timeoutSeconds`; resolves once it exited. */
export async function haltProcess(entry: ProcessEntry, timeoutSeconds: number): Promise<void> {
  const child = entry.child;
  if (!child) return;
  signalGroup(child, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signalGroup(child, "SIGKILL");
      resolve();
    }, timeoutSeconds * 1000);
  });
  await Promise.race([entry.exited, killed]);
  clearTimeout(timer);
  await entry.exited;
}
