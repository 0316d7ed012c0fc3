/**
 * Runs one of the Node scripts in tests/sdk/ (real Azure IoT SDK clients) as a child process:
 * JSON commands on its stdin, JSON events from its stdout.
 */
import { commandAvailable, type Requirement } from "./_services.ts";

const SDK_DIR = new URL("./sdk/", import.meta.url).pathname;

/** Node installed and tests/sdk/node_modules present. */
export async function sdkAvailable(): Promise<Requirement> {
  const node = await commandAvailable("node");
  if (node.missing) return node;
  const installed = await Deno.stat(`${SDK_DIR}node_modules/azure-iot-device`).then(
    () => true,
    () => false,
  );
  return {
    what: "Azure IoT SDK",
    missing: installed ? undefined : "Azure IoT SDK not installed: npm ci --prefix tests/sdk",
  };
}

/** A running SDK client. */
export interface SdkProcess {
  send(command: Record<string, unknown>): Promise<void>;
  /** The next event matching `predicate` (earlier non-matching ones are kept for later). */
  next(
    predicate: (event: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Every event seen so far. */
  readonly events: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts `tests/sdk/<script>` under Node with `env` and the port-mapping preload. */
export function startSdkProcess(script: string, env: Record<string, string>): SdkProcess {
  const child = new Deno.Command("node", {
    args: ["--require", `${SDK_DIR}_ports.cjs`, `${SDK_DIR}${script}`],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const events: Record<string, unknown>[] = [];
  const consumed = new Set<Record<string, unknown>>();
  let wake: (() => void) | undefined;
  const stderr: string[] = [];
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          events.push(JSON.parse(line));
        } catch {
          stderr.push(line);
        }
        wake?.();
      }
    }
    wake?.();
  })();
  const readingErr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr.push(chunk);
    }
  })();
  const writer = child.stdin.getWriter();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    wake?.();
    return s;
  });

  return {
    events,
    async send(command) {
      await writer.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
    },
    async next(predicate, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const found = events.find((event) => !consumed.has(event) && predicate(event));
        if (found) {
          consumed.add(found);
          return found;
        }
        const fatal = events.find((event) => event.event === "fatal");
        if (fatal) throw new Error(`SDK client ${script} failed: ${fatal.message}`);
        if (exited || Date.now() > deadline) {
          throw new Error(
            `SDK client ${script}: no matching event${exited ? " (exited)" : ""}; events: ${
              JSON.stringify(events)
            }; stderr: ${stderr.join("").slice(-2000)}`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(200, deadline - Date.now()));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    },
    async close() {
      await writer.close().catch(() => {});
      if (!exited) {
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* exited */ }
        }, 3000);
        await status;
        clearTimeout(timer);
      }
      await status;
      await reading;
      await readingErr;
    },
  };
}
