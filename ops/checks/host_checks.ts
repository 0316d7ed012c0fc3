/**
 * Checks of the host: state dir permissions, disk space for the store, the clock, DNS for the
 * hub's host name, and the listener ports.
 */
import { lookup } from "node:dns/promises";
import { statfs } from "node:fs/promises";
import type { Config } from "../../core/config.ts";
import { splitListen } from "../../core/listen_address.ts";
import { type Check, needsConfig } from "./check.ts";

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/** The state dir exists and is 0700; private keys are 0600 (an error), other entries 0600/0700. */
export const stateDirCheck: Check = needsConfig("state-dir", "state directory", async (config) => {
  const dir = config.state.dir;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return {
        status: "warning",
        message: `${dir} does not exist yet`,
        fix: "it is created 0700 on the first `ledge run`",
      };
    }
    return {
      status: "error",
      message: `cannot read ${dir}: ${(error as Error).message}`,
      fix: `run as the user that owns ${dir} (usually root)`,
    };
  }
  if (!info.isDirectory) {
    return {
      status: "error",
      message: `${dir} is not a directory`,
      fix: "set [state] dir to a directory",
    };
  }
  if ((info.mode! & 0o077) !== 0) {
    return {
      status: "error",
      message: `${dir} is ${octal(info.mode!)}: others can read identities and keys`,
      fix: `chmod 700 ${dir}`,
    };
  }
  const loose: string[] = [];
  const open: string[] = [];
  async function walk(path: string, shared: boolean): Promise<void> {
    for await (const entry of Deno.readDir(path)) {
      const full = `${path}/${entry.name}`;
      if (entry.isDirectory) {
        const mode = (await Deno.stat(full)).mode! & 0o777;
        if (!shared && mode & 0o077) open.push(`${full}/ (${octal(mode)})`);
        // Module socket directories are bind-mounted into containers: 0755 by design.
        await walk(full, path === dir && entry.name === "mnt");
      } else if (entry.isFile) {
        const mode = (await Deno.stat(full)).mode! & 0o777;
        if (!(mode & 0o077)) continue;
        (/key/.test(entry.name) ? loose : open).push(`${full} (${octal(mode)})`);
      }
    }
  }
  try {
    await walk(dir, false);
  } catch (error) {
    return {
      status: "error",
      message: `cannot read ${dir}: ${(error as Error).message}`,
      fix: `run as the user that owns ${dir} (usually root)`,
    };
  }
  if (loose.length > 0) {
    return {
      status: "error",
      message: `private keys readable by others: ${loose.join(", ")}`,
      fix: `chmod 600 ${loose.map((l) => l.split(" ")[0]).join(" ")}`,
    };
  }
  if (open.length > 0) {
    return {
      status: "warning",
      message: `entries others could read: ${open.slice(0, 5).join(", ")}${
        open.length > 5 ? ` and ${open.length - 5} more` : ""
      }`,
      fix: "restart ledge (it makes files 0600 and directories 0700 at start)",
    };
  }
  return { status: "ok", message: `${dir} is 0700, its files 0600 and directories 0700` };
});

/**
 * Free space on the state dir's file system, against the store's floor (`min_free_bytes`, below
 * which it refuses new messages) and its bound.
 */
export const diskCheck: Check = needsConfig("disk", "disk space for the store", async (config) => {
  let dir = config.state.dir;
  while (!(await Deno.stat(dir).then(() => true, () => false)) && dir.includes("/")) {
    dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
  }
  const stats = await statfs(dir);
  const free = Number(stats.bavail) * Number(stats.bsize);
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  const { max_size_bytes: bound, min_free_bytes: floor } = config.hub.store;
  if (free < 2 * floor) {
    return {
      status: "error",
      message: `${mib(free)} free on ${dir}: the store refuses new messages below ${mib(floor)} ` +
        "(deliveries and acks go on)",
      fix: `free disk space on ${dir} or move [state] dir to a larger file system; ` +
        "queues also give their space back as their consumers drain them",
    };
  }
  if (free < bound) {
    return {
      status: "warning",
      message: `${mib(free)} free on ${dir}, less than one full queue (${mib(bound)})`,
      fix: "lower hub.store.max_size_bytes or free disk space",
    };
  }
  return { status: "ok", message: `${mib(free)} free on ${dir}` };
});

/** The clock is past the build of this release (a device with a dead RTC boots in 1970). */
export const clockCheck: Check = {
  id: "clock",
  title: "system clock",
  run: (context) => {
    const floor = new Date("2026-01-01T00:00:00Z");
    if (context.now < floor) {
      return Promise.resolve({
        status: "error",
        message: `the clock says ${context.now.toISOString()}: certificates will not be valid yet`,
        fix: "set the time (NTP: timedatectl set-ntp true)",
      });
    }
    return Promise.resolve({ status: "ok", message: context.now.toISOString() });
  },
};

/** The hub's host name resolves here (modules and leaf devices connect to it). */
export const dnsCheck: Check = needsConfig("dns", "hub host name resolves", async (config) => {
  const name = config.device.hostname;
  try {
    const { address } = await lookup(name);
    return { status: "ok", message: `${name} resolves to ${address}` };
  } catch {
    return {
      status: "warning",
      message: `${name} does not resolve on this host`,
      fix: `add ${name} to DNS or /etc/hosts, or set [device] hostname to a name that resolves`,
    };
  }
});

function listenersOf(config: Config) {
  const hub = config.hub;
  const listeners: { key: string; name: string; hostname: string; port: number }[] = [];
  if (hub.mqtt.enabled) {
    listeners.push({
      key: "mqtts",
      name: "MQTT/TLS",
      hostname: hub.mqtt.bind,
      port: hub.mqtt.port,
    });
  }
  if (hub.https.enabled) {
    listeners.push({ key: "https", name: "HTTPS", hostname: hub.https.bind, port: hub.https.port });
  }
  if (hub.amqp.enabled) {
    listeners.push({
      key: "amqps",
      name: "AMQP/TLS",
      hostname: hub.amqp.bind,
      port: hub.amqp.port,
    });
  }
  if (hub.plain.enabled) {
    listeners.push({
      key: "plain",
      name: "plain MQTT",
      hostname: "127.0.0.1",
      port: hub.plain.port,
    });
  }
  if (config.metrics.enabled) {
    listeners.push({ key: "metrics", name: "metrics", ...splitListen(config.metrics.listen) });
  }
  if (config.console.enabled) {
    listeners.push({ key: "console", name: "console", ...splitListen(config.console.listen) });
  }
  return listeners;
}

async function accepts(hostname: string, port: number): Promise<boolean> {
  const target = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  try {
    const connection = await Deno.connect({ hostname: target, port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

/** With the daemon running its ports answer; without it they are free to bind. */
export const portsCheck: Check = needsConfig("ports", "listener ports", async (config, context) => {
  const problems: string[] = [];
  const fine: string[] = [];
  // Port 0 in the config means any free port: the daemon reports the one it bound.
  const bound = context.daemonRunning
    ? await context.daemonGet?.("/v1/health").then(
      (health) => (health as { listeners?: Record<string, number> }).listeners ?? {},
      () => ({} as Record<string, number>),
    )
    : undefined;
  // A daemon that reports its listeners and not this one is not serving it (e.g. the console
  // found its port taken): the port may still answer, but not as ledge.
  const reports = bound !== undefined && Object.keys(bound).length > 0;
  for (const configured of listenersOf(config)) {
    if (reports && bound[configured.key] === undefined) {
      problems.push(`${configured.name} ${configured.port} is not served by ledge`);
      continue;
    }
    const listener = { ...configured, port: bound?.[configured.key] ?? configured.port };
    const label = `${listener.name} ${listener.port === 0 ? "(any free port)" : listener.port}`;
    if (listener.port === 0) {
      if (context.daemonRunning) problems.push(`${listener.name} reports no bound port`);
      else fine.push(label);
      continue;
    }
    if (context.daemonRunning) {
      if (await accepts(listener.hostname, listener.port)) fine.push(label);
      else problems.push(`${label} does not answer`);
      continue;
    }
    try {
      Deno.listen({ hostname: listener.hostname, port: listener.port }).close();
      fine.push(label);
    } catch (error) {
      problems.push(`${label}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) {
    return {
      status: "error",
      message: problems.join("; "),
      fix: context.daemonRunning
        ? "see `ledge run`'s log for the listener that failed"
        : "stop what holds the port, or change the port in the config (binding below 1024 needs root)",
    };
  }
  return {
    status: "ok",
    message: `${context.daemonRunning ? "answering" : "free"}: ${
      fine.join(", ") || "no listeners enabled"
    }`,
  };
});
