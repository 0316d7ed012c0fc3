/**
 * Tests that need a real service or tool (an engine, mosquitto, openssl, Node): on a developer
 * laptop without it they are ignored with a printed reason; in CI (`LEDGE_TEST_REQUIRE_SERVICES=1`)
 * they run anyway and fail, so a missing service never passes silently.
 */

/** Whether missing services are errors (set by .ci/run). */
export const REQUIRE_SERVICES = Deno.env.get("LEDGE_TEST_REQUIRE_SERVICES") === "1";

/** Something a test needs, and why it is missing when it is. */
export interface Requirement {
  what: string;
  /** Undefined when available; else the reason, e.g. "mosquitto not installed". */
  missing: string | undefined;
}

/** Whether `command` is on the PATH. */
export async function commandAvailable(command: string): Promise<Requirement> {
  try {
    const { success } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${command}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return { what: command, missing: success ? undefined : `${command} not installed` };
  } catch {
    return { what: command, missing: `${command} not installed` };
  }
}

/**
 * Whether an HTTP API answers `GET path` on the unix socket `socketPath`. A busy engine (many test
 * files probe it at once while others drive it) may answer slowly: three tries, 10 s each.
 */
export async function socketAnswers(
  what: string,
  socketPath: string,
  path = "/_ping",
): Promise<Requirement> {
  let missing = `${what} not reachable at ${socketPath}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
    try {
      const response = await fetch(`http://local${path}`, {
        client,
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      if (response.ok) return { what, missing: undefined };
      missing = `${what} answered ${response.status}`;
    } catch (error) {
      // A socket file that does not exist will not appear by waiting.
      if (
        error instanceof Error &&
        /No such file|ENOENT|not found/i.test(String(error.cause ?? error))
      ) {
        return { what, missing };
      }
    } finally {
      client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { what, missing };
}

const printed = new Set<string>();

/**
 * Registers a test that needs `requirements`. Missing ones make it ignored (with a printed
 * reason) unless services are required, in which case it runs and fails on the first missing one.
 */
export function serviceTest(
  name: string,
  requirements: readonly Requirement[],
  fn: (t: Deno.TestContext) => void | Promise<void>,
  options: Omit<Deno.TestDefinition, "name" | "fn" | "ignore"> = {},
): void {
  const missing = requirements.filter((r) => r.missing !== undefined).map((r) => r.missing!);
  const ignore = missing.length > 0 && !REQUIRE_SERVICES;
  if (ignore) {
    const line = `ignored: ${name}: ${missing.join(", ")}`;
    if (!printed.has(line)) console.error(line);
    printed.add(line);
  }
  Deno.test({
    ...options,
    name,
    ignore,
    fn: async (t) => {
      if (missing.length > 0) {
        throw new Error(
          `Cannot run without ${missing.join(", ")} (LEDGE_TEST_REQUIRE_SERVICES=1)`,
        );
      }
      await fn(t);
    },
  });
}

/** Where test processes record the ports they claimed (one file per port, shared by all). */
const PORT_CLAIMS = "/tmp/ledge-test-ports";
/** A claim older than this is stale (its test is long over). */
const CLAIM_TTL_MS = 3_600_000;

function ephemeralLow(): number {
  try {
    const range = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    const low = Number(range.trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function claim(port: number): boolean {
  const file = `${PORT_CLAIMS}/${port}`;
  try {
    Deno.writeTextFileSync(file, `${Deno.pid}\n`, { createNew: true });
    return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  const mtime = Deno.statSync(file).mtime?.getTime() ?? 0;
  if (Date.now() - mtime < CLAIM_TTL_MS) return false;
  Deno.writeTextFileSync(file, `${Deno.pid}\n`);
  return true;
}

/**
 * A TCP port for a server that cannot bind port 0 and report what it got (mosquitto, a registry):
 * ledge's own listeners take port 0 instead (tests/_ledge.ts reads the bound ports). The port is
 * drawn below the kernel's ephemeral range, so no `bind(0)` or outgoing connection of another
 * process is given it, claimed in a file under /tmp that every test process respects, and checked
 * free on every address.
 */
export function freePort(): number {
  Deno.mkdirSync(PORT_CLAIMS, { recursive: true });
  const low = 10_000;
  const high = ephemeralLow() - 1;
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (!claim(port)) continue;
    try {
      Deno.listen({ hostname: "0.0.0.0", port }).close();
      return port;
    } catch {
      // held by something outside the tests: try another
    }
  }
  throw new Error(`Cannot find a free port in ${low}–${high} after 500 attempts`);
}
