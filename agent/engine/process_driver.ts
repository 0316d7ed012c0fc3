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
  type LogOptions,
  NoSuchInstanceError,
} from "./driver.ts";
import { createLogBuffer, type LogBuffer, type LogLine } from "./log_buffer.ts";
import { splitLines } from "./docker_stream.ts";

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

interface Entry {
  instance: ModuleInstance;
  request: CreateRequest;
  log: LogBuffer;
  child?: Deno.ChildProcess | undefined;
  exited?: Promise<void>;
  /** Ends followers when the run ends. */
  runEnded: Set<() => void>;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
let nextId = 1;

/**
 * Creates a process driver.
 *
 * @example
 * ```ts
 * const driver = createProcessDriver({ logDir: "/var/lib/ledge/agent/logs" });
 * ```
 */
export function createProcessDriver(options: ProcessDriverOptions): EngineDriver {
  const maxLines = options.maxLogLines ?? 10_000;
  const maxFileBytes = options.maxLogFileBytes ?? 10 * 1024 * 1024;
  const inherit = options.inheritEnv ?? ["PATH", "LANG", "TZ"];
  const entries = new Map<string, Entry>();
  const listeners = new Set<(event: EngineEvent) => void>();
  let closed = false;

  function emit(entry: Entry, action: string) {
    const event = { name: entry.instance.name, action, id: entry.instance.id };
    for (const listener of listeners) listener(event);
  }

  function get(name: string, what: string): Entry {
    const entry = entries.get(name);
    if (!entry) throw new NoSuchInstanceError(`Cannot ${what}: no module "${name}"`);
    return entry;
  }

  async function openLogFile(name: string) {
    await Deno.mkdir(options.logDir, { recursive: true, mode: 0o700 });
    const path = `${options.logDir}/${name}.log`;
    const size = await Deno.stat(path).then((s) => s.size, () => 0);
    if (size >= maxFileBytes) await Deno.rename(path, `${path}.1`);
    return await Deno.open(path, { append: true, create: true, mode: 0o600 });
  }

  async function capture(entry: Entry, stream: ReadableStream<Uint8Array>, file: Deno.FsFile) {
    const encoder = new TextEncoder();
    for await (const line of stream.pipeThrough(splitLines())) {
      const time = Date.now();
      entry.log.append(line, time);
      await file.write(encoder.encode(`${new Date(time).toISOString()} ${line}\n`)).catch(() => {});
    }
  }

  async function run(entry: Entry) {
    const { module, env } = entry.request;
    const settings = module.process;
    if (!settings) throw new TypeError(`Cannot start ${module.name}: it is not a process module`);
    const environment: Record<string, string> = {};
    for (const name of inherit) {
      const value = Deno.env.get(name);
      if (value !== undefined) environment[name] = value;
    }
    Object.assign(environment, env);
    // Open the log before spawning, so no await separates the spawn from recording the child.
    const file = await openLogFile(module.name);
    if (closed) {
      file.close();
      throw new EngineError(`Cannot start ${module.name}: the process driver is closed`, 503);
    }
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(settings.command, {
        args: settings.args,
        ...(settings.workdir ? { cwd: settings.workdir } : {}),
        env: environment,
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
    const captured = Promise.all([
      capture(entry, child.stdout, file),
      capture(entry, child.stderr, file),
    ]);
    entry.exited = (async () => {
      const status = await child.status;
      // A grandchild that outlived the module may hold the pipes open: stop reading soon.
      let grace: ReturnType<typeof setTimeout> | undefined;
      const drained = await Promise.race([
        captured.then(() => true, () => true),
        new Promise<false>((resolve) => (grace = setTimeout(() => resolve(false), 500))),
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
      entry.instance = {
        ...entry.instance,
        state: "exited",
        exitCode: code,
        finishedAt: Date.now(),
      };
      for (const end of entry.runEnded) end();
      entry.runEnded.clear();
      emit(entry, "die");
    })();
    emit(entry, "start");
  }

  function signalGroup(child: Deno.ChildProcess, signal: Deno.Signal) {
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

  async function halt(entry: Entry, timeoutSeconds: number) {
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

  return {
    kind: "process",

    info() {
      return Promise.resolve({
        kind: "process",
        name: "process",
        version: Deno.version.deno,
        apiVersion: "",
        os: Deno.build.os,
        arch: Deno.build.arch,
      });
    },

    list() {
      return Promise.resolve([...entries.values()].map((e) => ({ ...e.instance })));
    },

    inspect(name) {
      const entry = entries.get(name);
      return Promise.resolve(entry ? { ...entry.instance } : undefined);
    },

    create(request) {
      const name = request.module.name;
      if (entries.has(name)) {
        return Promise.reject(new EngineError(`Cannot create ${name}: it already exists`, 409));
      }
      const entry: Entry = {
        request,
        log: createLogBuffer(maxLines),
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
      entries.set(name, entry);
      emit(entry, "create");
      return Promise.resolve();
    },

    async start(name) {
      const entry = get(name, `start ${name}`);
      if (entry.child) return;
      await run(entry);
    },

    async stop(name, { timeoutSeconds = 10 } = {}) {
      const entry = get(name, `stop ${name}`);
      await halt(entry, timeoutSeconds);
      emit(entry, "stop");
    },

    async remove(name) {
      const entry = entries.get(name);
      if (!entry) return;
      await halt(entry, 0);
      entries.delete(name);
      emit(entry, "destroy");
    },

    logs(name, opts: LogOptions = {}) {
      let entry: Entry;
      try {
        entry = get(name, `read the logs of ${name}`);
      } catch (error) {
        return Promise.reject(error);
      }
      const encoder = new TextEncoder();
      const format = (line: LogLine) =>
        encoder.encode(
          `${opts.timestamps ? `${new Date(line.time).toISOString()} ` : ""}${line.text}\n`,
        );
      let lines = entry.log.lines();
      if (opts.since !== undefined) lines = lines.filter((l) => l.time >= opts.since! * 1000);
      if (opts.tail !== undefined) lines = opts.tail === 0 ? [] : lines.slice(-opts.tail);
      const following = opts.follow && entry.child !== undefined;
      let cleanup = () => {};
      return Promise.resolve(
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (const line of lines) controller.enqueue(format(line));
            if (!following) return controller.close();
            const finish = () => {
              cleanup();
              try {
                controller.close();
              } catch {
                // already closed
              }
            };
            const unsubscribe = entry.log.subscribe((line) => controller.enqueue(format(line)));
            const onAbort = () => finish();
            entry.runEnded.add(finish);
            opts.signal?.addEventListener("abort", onAbort, { once: true });
            cleanup = () => {
              unsubscribe();
              entry.runEnded.delete(finish);
              opts.signal?.removeEventListener("abort", onAbort);
            };
          },
          cancel() {
            cleanup();
          },
        }),
      );
    },

    async *events(signal) {
      const queue: EngineEvent[] = [];
      let wake: (() => void) | undefined;
      const listener = (event: EngineEvent) => {
        queue.push(event);
        wake?.();
      };
      const onAbort = () => wake?.();
      listeners.add(listener);
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
        listeners.delete(listener);
        signal.removeEventListener("abort", onAbort);
      }
    },

    pull() {
      return Promise.resolve();
    },

    imageInspect() {
      return Promise.resolve(undefined);
    },

    async close() {
      closed = true;
      await Promise.all([...entries.values()].map((entry) => halt(entry, 5)));
    },
  };
}
