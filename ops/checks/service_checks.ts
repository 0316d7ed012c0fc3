/**
 * Checks of what ledge talks to: its own daemon, the container engine, its certificates, and
 * the upstream parent.
 */
import { connect as tlsConnect } from "node:tls";
import { findEngineSocket } from "../../agent/mod.ts";
import { parseCertificates } from "../../security/mod.ts";
import type { Config } from "../../core/config.ts";
import { type Check, type CheckResult, needsConfig } from "./check.ts";

/** Whether the daemon answers on its management socket. */
export const daemonCheck: Check = needsConfig(
  "daemon",
  "ledge daemon",
  (config, context) =>
    Promise.resolve(
      context.daemonRunning
        ? { status: "ok", message: `running, management API at ${config.state.dir}/mgmt.sock` }
        : {
          status: "warning",
          message: "not running",
          fix: "start it: `ledge run` (or `systemctl start ledge`)",
        },
    ),
);

/** The container engine answers and says which it is. */
export const engineCheck: Check = needsConfig(
  "engine",
  "container engine",
  async (config, context) => {
    if (config.agent.engine === "none") {
      return { status: "ok", message: 'disabled ([agent] engine = "none"): process modules only' };
    }
    const socket = await findEngineSocket(config.agent, context.env);
    if (!socket) {
      return {
        status: "warning",
        message: "no Podman or Docker socket found: only process modules can run",
        fix: "start one (`systemctl start podman.socket`) or set [agent] engine_socket",
      };
    }
    const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
    try {
      const response = await fetch("http://engine/version", {
        client,
        signal: AbortSignal.timeout(3000),
      });
      const version = await response.json() as {
        Version?: string;
        ApiVersion?: string;
        Components?: { Name?: string }[];
      };
      const podman = version.Components?.some((c) => /podman/i.test(c.Name ?? ""));
      const name = podman ? "Podman" : "Docker";
      const api = Number(version.ApiVersion ?? "0");
      if (api < 1.40) {
        return {
          status: "error",
          message:
            `${name} ${version.Version} at ${socket} serves API ${version.ApiVersion}; ledge needs 1.40+`,
          fix: "upgrade the engine",
        };
      }
      return {
        status: "ok",
        message: `${name} ${version.Version} (API ${version.ApiVersion}) at ${socket}`,
      };
    } catch (error) {
      return {
        status: "error",
        message: `${socket} does not answer: ${(error as Error).message}`,
        fix: "start the engine's API service, or fix [agent] engine_socket",
      };
    } finally {
      client.close();
    }
  },
);

async function pemFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await pemFiles(path));
    else if (entry.isFile && entry.name.endsWith(".pem") && !/key/.test(entry.name)) {
      found.push(path);
    }
  }
  return found.sort();
}

/** Every certificate under `<state>/pki` is valid now, and none is near its end unrenewed. */
export const certificatesCheck: Check = needsConfig(
  "certificates",
  "certificates",
  async (config, context) => {
    const dir = `${config.state.dir}/pki`;
    let files: string[];
    try {
      files = await pemFiles(dir);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return {
          status: "warning",
          message: `no PKI yet in ${dir}`,
          fix: "it is created on the first `ledge run`",
        };
      }
      return {
        status: "error",
        message: `cannot read ${dir}: ${(error as Error).message}`,
        fix: "run as root",
      };
    }
    const now = context.now.getTime();
    const expired: string[] = [];
    const ending: string[] = [];
    const notYet: string[] = [];
    let soonest = Infinity;
    let count = 0;
    for (const file of files) {
      for (const certificate of parseCertificates(await Deno.readTextFile(file), file)) {
        count++;
        const begins = certificate.notBefore.getTime();
        const ends = certificate.notAfter.getTime();
        const name = `${file.slice(dir.length + 1)} (${certificate.subject})`;
        if (ends <= now) expired.push(`${name} expired ${certificate.notAfter.toISOString()}`);
        else if (begins > now) notYet.push(`${name} starts ${certificate.notBefore.toISOString()}`);
        // Renewal happens at ~2/3 of the lifetime: less than a fifth left means it did not.
        else if (ends - now < (ends - begins) / 5) {
          ending.push(
            `${name} ends ${certificate.notAfter.toISOString()}`,
          );
        }
        soonest = Math.min(soonest, ends - now);
      }
    }
    if (expired.length > 0) {
      return {
        status: "error",
        message: expired.join("; "),
        fix: "`ledge cert renew` (and `--ca` for a CA); a running ledge renews at start-up",
      };
    }
    if (notYet.length > 0) {
      return {
        status: "error",
        message: `not valid yet: ${notYet.join("; ")}`,
        fix: "the clock is behind: set the time (timedatectl set-ntp true)",
      };
    }
    if (ending.length > 0) {
      return {
        status: "warning",
        message: `not renewed in time: ${ending.join("; ")}`,
        fix: "`ledge cert renew`",
      };
    }
    if (count === 0) {
      return {
        status: "warning",
        message: `no certificates in ${dir}`,
        fix: "start `ledge run` once",
      };
    }
    return {
      status: "ok",
      message: `${count} certificates valid; the soonest ends in ${
        (soonest / 86_400_000).toFixed(1)
      } days`,
    };
  },
);

interface UpstreamAnswer {
  connected: boolean;
  device: {
    since: string | null;
    lastError: string | null;
    lastErrorKind: string | null;
    attempts: number;
  } | null;
  forwarding: { queued: number };
}

const UPSTREAM_FIXES: Record<string, string> = {
  auth:
    "the parent refuses this device's credentials: check upstream.shared_access_key (or cert_file) and the device's registration on the parent",
  tls: "the parent's certificate is not trusted: check upstream.ca_file",
  network: "the parent is unreachable: check upstream.hostname and upstream.port",
  config: "fix the [upstream] keys the error names",
};

/** The running daemon's link to the parent is up and authenticated, or why it is not. */
async function linkState(
  where: string,
  daemonGet: (path: string) => Promise<unknown>,
): Promise<Omit<CheckResult, "id" | "title">> {
  const state = await daemonGet("/v1/upstream") as UpstreamAnswer;
  if (state.connected) {
    return {
      status: "ok",
      message:
        `connected to ${where} since ${state.device?.since}; ${state.forwarding.queued} queued`,
    };
  }
  return {
    status: "error",
    message: `not connected to ${where} after ${state.device?.attempts ?? 0} attempts: ${
      state.device?.lastError ?? "no attempt yet"
    }; ${state.forwarding.queued} messages wait`,
    fix: UPSTREAM_FIXES[state.device?.lastErrorKind ?? ""] ?? "see the log of `ledge run`",
  };
}

/** The parent answers TLS with a certificate the configured CA vouches for. */
async function tlsProbe(
  upstream: Config["upstream"],
  where: string,
): Promise<Omit<CheckResult, "id" | "title">> {
  let ca: string | undefined;
  if (upstream.ca_file) {
    try {
      ca = await Deno.readTextFile(upstream.ca_file);
    } catch (error) {
      return {
        status: "error",
        message: `cannot read upstream.ca_file ${upstream.ca_file}: ${(error as Error).message}`,
        fix: "point upstream.ca_file at the parent's CA bundle (PEM)",
      };
    }
  }
  const outcome = await new Promise<{ ok: boolean; detail: string }>((resolve) => {
    const socket = tlsConnect({
      host: upstream.hostname,
      port: upstream.port,
      servername: upstream.hostname,
      ...(ca ? { ca } : {}),
      timeout: 5000,
    });
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve({ ok: true, detail: `TLS ok, certificate valid to ${cert.valid_to}` });
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve({ ok: false, detail: "no answer within 5 s" });
    });
    socket.once("error", (error) => resolve({ ok: false, detail: error.message }));
  });
  return outcome.ok ? { status: "ok", message: `${where}: ${outcome.detail}` } : {
    status: "error",
    message: `${where}: ${outcome.detail}`,
    fix: "check the parent's address, that it runs, and upstream.ca_file",
  };
}

/**
 * The upstream parent: with the daemon running, its link's state (connected and authenticated,
 * or why not); without, a TLS probe against the configured CA.
 */
export const upstreamCheck: Check = needsConfig(
  "upstream",
  "upstream parent",
  (config, context) => {
    const upstream = config.upstream;
    if (!upstream.enabled) {
      return Promise.resolve({ status: "ok", message: "no parent configured (standalone device)" });
    }
    const where = `${upstream.hostname}:${upstream.port}`;
    return context.daemonGet ? linkState(where, context.daemonGet) : tlsProbe(upstream, where);
  },
);
