/**
 * The process driver: runs `type: "process"` modules as child processes of ledge, for devices
 * with no container engine. Same contract as the engine driver: created/running/exited states
 * with exit codes and times, events, and logs (a bounded ring in memory plus a file per module
 * under `<logDir>/<module>.log`, rotated once at `maxLogFileBytes`).
 *
 * Children do not outlive the driver: {@linkcode EngineDriver.close} stops them, and after a
 * ledge restart they are started again.
 */
import type { ModuleInstance } from "../module_instance.ts";
import {
  type CreateRequest,
  type EngineDriver,
  EngineError,
  type EngineEvent,
  type EngineInfo,
  type LogOptions,
  NoSuchInstanceError,
} from "./driver.ts";
import { createLogBuffer } from "./log_buffer.ts";
import { processLogStream } from "./process_logs.ts";
import { haltProcess, type ProcessEntry, type RunContext, runProcess } from "./process_run.ts";

/** Options of {@linkcode createProcessDriver}. */
export interface ProcessDriverOptions {
  /** Directory for the per-module log files (created when needed). */
  logDir: string;
  /** Lines kept in memory per module (default 10000). */
  maxLogLines?: number;
  /** Size at which a log file rotates to `.1` (default 10 MiB). */
  maxLogFileBytes?: number;
  /** Variables of ledge's own environment passed to every process (default PATH, LANG, TZ). */
  inheritEnv?: readonly string[];
}

let nextId = 1;

/** Runs process modules as children of ledge. */
export class ProcessDriver implements EngineDriver {
  readonly kind = "process";
  readonly #options: ProcessDriverOptions;
  readonly #maxLines: number;
  readonly #maxFileBytes: number;
  readonly #entries = new Map<string, ProcessEntry>();
  readonly #listeners = new Set<(event: EngineEvent) => void>();
  readonly #run: RunContext;
  #closed = false;

  constructor(options: ProcessDriverOptions) {
    this.#options = options;
    this.#maxLines = options.maxLogLines ?? 10_000;
    this.#maxFileBytes = options.maxLogFileBytes ?? 10 * 1024 * 1024;
    this.#run = {
      inheritEnv: options.inheritEnv ?? ["PATH", "LANG", "TZ"],
      openLogFile: (name) => this.#openLogFile(name),
      closed: () => this.#closed,
      emit: (entry, action) => this.#emit(entry, action),
    };
  }

  info(): Promise<EngineInfo> {
    return Promise.resolve({
      kind: "process",
      name: "process",
      version: Deno.version.deno,
      apiVersion: "",
      os: Deno.build.os,
      arch: Deno.build.arch,
    });
  }

  list(): Promise<ModuleInstance[]> {
    return Promise.resolve([...this.#entries.values()].map((e) => ({ ...e.instance })));
  }

  inspect(name: string): Promise<ModuleInstance | undefined> {
    const entry = this.#entries.get(name);
    return Promise.resolve(entry ? { ...entry.instance } : undefined);
  }

  create(request: CreateRequest): Promise<void> {
    const name = request.module.name;
    if (this.#entries.has(name)) {
      return Promise.reject(new EngineError(`Cannot create ${name}: it already exists`, 409));
    }
    const entry: ProcessEntry = {
      request,
      log: createLogBuffer(this.#maxLines),
      runEnded: new Set(),
      instance: {
        name,
        id: `process-${nextId++}`,
        type: "process",
        state: "created",
        health: "none",
        exitCode: 0,
        startedAt: undefined,
        finishedAt: undefined,
        configHash: request.module.configHash,
        imageId: "",
        error: "",
      },
    };
    this.#entries.set(name, entry);
    this.#emit(entry, "create");
    return Promise.resolve();
  }

  async start(name: string): Promise<void> {
    const entry = this.#get(name, `start ${name}`);
    if (entry.child) return;
    await runProcess(entry, this.#run);
  }

  async stop(name: string, { timeoutSeconds = 10 }: { timeoutSeconds?: number } = {}) {
    const entry = this.#get(name, `stop ${name}`);
    await haltProcess(entry, timeoutSeconds);
    this.#emit(entry, "stop");
  }

  async remove(name: string): Promise<void> {
    const entry = this.#entries.get(name);
    if (!entry) return;
    await haltProcess(entry, 0);
    this.#entries.delete(name);
    this.#emit(entry, "destroy");
  }

  logs(name: string, opts: LogOptions = {}): Promise<ReadableStream<Uint8Array>> {
    try {
      return Promise.resolve(processLogStream(this.#get(name, `read the logs of ${name}`), opts));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async *events(signal: AbortSignal): AsyncGenerator<EngineEvent> {
    const queue: EngineEvent[] = [];
    let wake: (() => void) | undefined;
    const listener = (event: EngineEvent) => {
      queue.push(event);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.#listeners.add(listener);
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        const event = queue.shift();
        if (event) {
          yield event;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.#listeners.delete(listener);
      signal.removeEventListener("abort", onAbort);
    }
  }

  pull(): Promise<void> {
    return Promise.resolve();
  }

  imageInspect(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#entries.values()].map((entry) => haltProcess(entry, 5)));
  }

  #emit(entry: ProcessEntry, action: string): void {
    const event = { name: entry.instance.name, action, id: entry.instance.id };
    for (const listener of this.#listeners) listener(event);
  }

  #get(name: string, what: string): ProcessEntry {
    const entry = this.#entries.get(name);
    if (!entry) throw new NoSuchInstanceError(`Cannot ${what}: no module "${name}"`);
    return entry;
  }

  async #openLogFile(name: string): Promise<Deno.FsFile> {
    const logDir = this.#options.logDir;
    await Deno.mkdir(logDir, { recursive: true, mode: 0o700 });
    const path = `${logDir}/${name}.log`;
    const size = await Deno.stat(path).then((s) => s.size, () => 0);
    if (size >= this.#maxFileBytes) await Deno.rename(path, `${path}.1`);
    return await Deno.open(path, { append: true, create: true, mode: 0o600 });
  }
}

/**
 * Creates a process driver.
 *
 * @example
 * ```ts
 * const driver = createProcessDriver({ logDir: "/var/lib/ledge/agent/logs" });
 * ```
 */
export function createProcessDriver(options: ProcessDriverOptions): EngineDriver {
  return new ProcessDriver(options);
}
