import assert from "node:assert/strict";
import { commandAvailable, serviceTest } from "../tests/_services.ts";
import { tempDir } from "./_testing.ts";

const CHILD = new URL("./testdata/enqueue_and_print.ts", import.meta.url);

type Event = { kind: "wal-write" | "wal-sync" } | { kind: "resolved"; n: number };

/** Joins strace's `<unfinished ...>` / `<... resumed>` halves, so each call is one line. */
function wholeCalls(trace: string): string[] {
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

/** The WAL writes, WAL syncs and "resolved" lines of a trace, in order. */
function walEvents(trace: string, walPath: string): Event[] {
  const paths = new Map<number, string>();
  const events: Event[] = [];
  for (const call of wholeCalls(trace)) {
    const opened = /^openat\(AT_FDCWD, "([^"]+)".*\) = (\d+)$/.exec(call);
    if (opened) {
      paths.set(Number(opened[2]), opened[1]!);
      continue;
    }
    // An async op on a Deno file works on a duplicate of its descriptor.
    const duplicated = /^(?:fcntl\((\d+), F_DUPFD(?:_CLOEXEC)?, \d+\)|dup\((\d+)\))\s+=\s+(\d+)$/
      .exec(call);
    if (duplicated) {
      const from = paths.get(Number(duplicated[1] ?? duplicated[2]));
      if (from !== undefined) paths.set(Number(duplicated[3]), from);
      continue;
    }
    const closed = /^close\((\d+)\)/.exec(call);
    if (closed) {
      paths.delete(Number(closed[1]));
      continue;
    }
    const resolved = /^write\(1, "resolved (\d+)\\n"/.exec(call);
    if (resolved) {
      events.push({ kind: "resolved", n: Number(resolved[1]) });
      continue;
    }
    const io = /^(pwrite64|write|fsync|fdatasync)\((\d+),/.exec(call) ??
      /^(fsync|fdatasync)\((\d+)\s*\)/.exec(call);
    if (!io || paths.get(Number(io[2])) !== walPath) continue;
    events.push({ kind: io[1]!.includes("sync") ? "wal-sync" : "wal-write" });
  }
  return events;
}

/** Numbers of the enqueues that resolved before their WAL frames were written and synced. */
function unsyncedAcks(events: readonly Event[]): number[] {
  const bad: number[] = [];
  let wroteSinceAck = false;
  let syncedSinceWrite = false;
  for (const event of events) {
    if (event.kind === "wal-write") {
      wroteSinceAck = true;
      syncedSinceWrite = false;
    } else if (event.kind === "wal-sync") {
      syncedSinceWrite = true;
    } else if (event.kind === "resolved") {
      if (!wroteSinceAck || !syncedSinceWrite) bad.push(event.n);
      wroteSinceAck = false;
    }
  }
  return bad;
}

async function traceChild(dir: string, synchronous: "FULL" | "NORMAL"): Promise<Event[]> {
  const path = `${dir}/${synchronous}.db`;
  const traceFile = `${dir}/${synchronous}.trace`;
  const { success, stderr } = await new Deno.Command("strace", {
    args: [
      "-f",
      "-qq",
      "-e",
      "trace=openat,close,dup,fcntl,write,pwrite64,fsync,fdatasync",
      "-o",
      traceFile,
      Deno.execPath(),
      "run",
      "--allow-all",
      CHILD.pathname,
      path,
      "5",
      synchronous,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
  const events = walEvents(await Deno.readTextFile(traceFile), `${path}-wal`);
  assert.deepEqual(
    events.flatMap((e) => (e.kind === "resolved" ? [e.n] : [])),
    [0, 1, 2, 3, 4],
    "the trace shows every resolved enqueue",
  );
  return events;
}

serviceTest(
  "enqueue() resolves only after its WAL frames are written and fsynced (power-cut safe)",
  [await commandAvailable("strace")],
  async (t) => {
    await using dir = await tempDir();
    await t.step("synchronous FULL: every enqueue is synced before it resolves", async () => {
      assert.deepEqual(unsyncedAcks(await traceChild(dir.path, "FULL")), []);
    });
    await t.step("synchronous NORMAL: the check sees enqueues resolve unsynced", async () => {
      assert.deepEqual(unsyncedAcks(await traceChild(dir.path, "NORMAL")), [0, 1, 2, 3, 4]);
    });
  },
);
