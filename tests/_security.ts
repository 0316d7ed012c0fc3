/**
 * Helpers of the security tests: a started security component on a temp state dir, requests
 * over a module's workload socket, and openssl as the independent judge of certificates.
 */
import { parseConfigText } from "../core/config_load.ts";
import type { Config } from "../core/config.ts";
import { createLogger, type Logger, silentLogger } from "../core/log.ts";
import {
  createSecurityComponent,
  type SecurityComponentWithControl,
  type SecurityManagerOptions,
} from "../security/mod.ts";
import { commandAvailable } from "./_services.ts";

/** openssl, required by every certificate check. */
export const OPENSSL = await commandAvailable("openssl");

/** A started security component on its own state dir. */
export interface SecurityFixture {
  stateDir: string;
  config: Config;
  component: SecurityComponentWithControl;
  /** Lines the component logged (JSON). */
  logs: string[];
  stop(): Promise<void>;
  /** Stops and removes the state dir. */
  dispose(): Promise<void>;
}

/** Options of {@linkcode startSecurity}. */
export interface StartSecurityOptions extends SecurityManagerOptions {
  /** Reuse a state dir (restart); defaults to a new temp dir. */
  stateDir?: string;
  /** Extra TOML for the `[security]` table. */
  security?: string;
  /** Do not start, only build. */
  noStart?: boolean;
}

/** The config the tests use: device dev1, host edge.local, hub hub.example, trust domain dev1.test. */
export function testConfig(stateDir: string, security = ""): Config {
  return parseConfigText(
    `[device]\nid = "dev1"\nhostname = "edge.local"\niothub_hostname = "hub.example"\n` +
      `[state]\ndir = "${stateDir}"\n[security]\ntrust_domain = "dev1.test"\n${security}`,
    { uid: 1000, hostname: "test", env: {} },
  );
}

/** Builds and starts a security component. */
export async function startSecurity(options: StartSecurityOptions = {}): Promise<SecurityFixture> {
  const stateDir = options.stateDir ??
    await Deno.makeTempDir({ prefix: "ledge-sec-", dir: "/tmp" });
  const config = testConfig(stateDir, options.security);
  const logs: string[] = [];
  const logger: Logger = createLogger({
    format: "json",
    level: "debug",
    write: (line) => logs.push(line),
  });
  const { stateDir: _, security: __, noStart, ...managerOptions } = options;
  const component = createSecurityComponent({ config, stateDir, logger }, managerOptions);
  if (!noStart) await component.start(new AbortController().signal);
  let stopped = noStart === true;
  const stop = async () => {
    if (!stopped) await component.stop();
    stopped = true;
  };
  return {
    stateDir,
    config,
    component,
    logs,
    stop,
    async dispose() {
      await stop();
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    },
  };
}

/** The answer of a workload API request. */
export interface WorkloadAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Sends a request over a unix socket (HTTP/1.1), as a module would. */
export async function socketRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: string,
): Promise<WorkloadAnswer> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  try {
    const response = await fetch(`http://workload${path}`, {
      method,
      client,
      ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : {} };
  } finally {
    client.close();
  }
}

/** Runs openssl with `args` (and `stdin`); resolves with its exit code and output. */
export async function openssl(
  args: readonly string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command("openssl", {
    args: [...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** `openssl x509 -text` of the first certificate of `pem`. */
export async function certificateText(pem: string): Promise<string> {
  const result = await openssl(["x509", "-noout", "-text"], pem);
  if (result.code !== 0) throw new Error(`openssl x509 failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * `openssl verify -CAfile <bundle> [-untrusted <chain rest>] <leaf>`: files are written to `dir`.
 * Resolves with openssl's exit code and output.
 */
export async function opensslVerify(
  dir: string,
  options: { bundlePem: string; chainPem: string; purpose?: "sslserver" | "sslclient" },
): Promise<{ code: number; output: string }> {
  const blocks =
    options.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ??
      [];
  const tag = crypto.randomUUID().slice(0, 8);
  const bundle = `${dir}/bundle-${tag}.pem`;
  const leaf = `${dir}/leaf-${tag}.pem`;
  const rest = `${dir}/untrusted-${tag}.pem`;
  await Deno.writeTextFile(bundle, options.bundlePem);
  await Deno.writeTextFile(leaf, blocks[0] ?? "");
  await Deno.writeTextFile(rest, blocks.slice(1).join(""));
  const args = ["verify", "-CAfile", bundle];
  if (blocks.length > 1) args.push("-untrusted", rest);
  if (options.purpose) args.push("-purpose", options.purpose);
  args.push(leaf);
  const result = await openssl(args);
  return { code: result.code, output: result.stdout + result.stderr };
}

export { silentLogger };
