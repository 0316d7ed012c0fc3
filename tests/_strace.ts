/**
 * Reading an `strace -f` trace of a store's child process: its writes and syncs of the WAL and the
 * body log, its writes to a unix socket, and the `resolved <n>` lines it printed, in order.
 */

/** One traced event; `resolved` is a line the child printed when an enqueue resolved. */
export type TraceEvent =
  | { kind: "wal-write" | "wal-sync" | "log-write" | "log-sync" | "socket-write" }
  | { kind: "resolved"; n: number };

/** The strace expression for the calls {@linkcode storeEvents} reads. */
const TRACED_CALLS =
  "trace=openat,close,dup,fcntl,socket,connect,write,writev,sendto,sendmsg,pwrite64,fsync,fdatasync";

/**
 * Runs `script` with `args` under `deno run --allow-all`, traced by strace (every thread) into
 * `traceFile`; returns the trace, or throws with the child's stderr when it failed.
 */
export async function traceDenoScript(
  traceFile: string,
  script: URL,
  args: readonly string[],
): Promise<string> {
  const { success, stderr } = await new Deno.Command("strace", {
    args: ["-f", "-qq", "-e", TRACED_CALLS, "-o", traceFile, Deno.execPath(), "run"]
      .concat(["--allow-all", script.pathname, ...args]),
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`the traced child failed: ${new TextDecoder().decode(stderr)}`);
  return await Deno.readTextFile(traceFile);
}

/** The numbers of the enqueues the trace shows resolved, in order. */
export function resolvedEnqueues(events: readonly TraceEvent[]): number[] {
  return events.flatMap((event) => (event.kind === "resolved" ? [event.n] : []));
}

/** Joins strace's `<unfinished ...>` / `<... resumed>` halves, so each call is one line. */
export function wholeCalls(trace: string): string[] {
  const open = new Map<string, string>();
  const calls: string[] = [];
  for (const line of trace.split("\n")) {
    const match = /^(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, pid, rest] = match as unknown as [string, string, string];
    if (rest.endsWith("<unfinished ...>")) {
      open.set(pid, rest.slice(0, -"<unfinished ...>".length));
    } else if (rest.startsWith("<... ")) {
      calls.push(`${open.get(pid) ?? ""}${rest.replace(/^<\.\.\. \w+ resumed>/, "")}`);
      open.delete(pid);
    } else {
      calls.push(rest);
    }
  }
  return calls;
}

/**
 * The events of a trace of a store at `path` (its WAL, `<path>-wal`, and its body log,
 * `<path>-bodies/…`), with writes to the unix socket at `socketPath` if given.
 */
export function storeEvents(trace: string, path: string, socketPath?: string): TraceEvent[] {
  const files = new Map<number, string>();
  const events: TraceEvent[] = [];
  for (const call of wholeCalls(trace)) {
    const opened = /^openat\(AT_FDCWD, "([^"]+)".*\) = (\d+)$/.exec(call) ??
      /^connect\((\d+), \{sa_family=AF_UNIX, sun_path="([^"]+)"\}, \d+\) = 0$/.exec(call);
    if (opened) {
      const socket = call.startsWith("connect");
      files.set(Number(opened[socket ? 1 : 2]), opened[socket ? 2 : 1]!);
      continue;
    }
    // An async op on a Deno file works on a duplicate of its descriptor.
    const duplicated = /^(?:fcntl\((\d+), F_DUPFD(?:_CLOEXEC)?, \d+\)|dup\((\d+)\))\s+=\s+(\d+)$/
      .exec(call);
    if (duplicated) {
      const from = files.get(Number(duplicated[1] ?? duplicated[2]));
      if (from !== undefined) files.set(Number(duplicated[3]), from);
      continue;
    }
    const closed = /^close\((\d+)\)/.exec(call);
    if (closed) {
      files.delete(Number(closed[1]));
      continue;
    }
    const resolved = /^write\(1, "resolved (\d+)\\n"/.exec(call);
    if (resolved) {
      events.push({ kind: "resolved", n: Number(resolved[1]) });
      continue;
    }
    const io = /^(pwrite64|write|writev|sendto|sendmsg|fsync|fdatasync)\((\d+)[,)]/.exec(call);
    const file = io ? files.get(Number(io[2])) : undefined;
    if (file === undefined) continue;
    const sync = io![1]!.includes("sync");
    if (file === socketPath && !sync) events.push({ kind: "socket-write" });
    else if (file === `${path}-wal`) events.push({ kind: sync ? "wal-sync" : "wal-write" });
    else if (file.startsWith(`${path}-bodies`)) {
      events.push({ kind: sync ? "log-sync" : "log-write" });
    }
  }
  return events;
}
