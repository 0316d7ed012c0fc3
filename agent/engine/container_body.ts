/**
 * The ContainerCreate body of a module: its createOptions with what the agent adds — image,
 * environment, labels, the module's socket dir at `/var/run/iotedge`, the network, a host entry
 * for the hub, and no engine restart policy (the agent restarts modules itself).
 */
import type { CreateRequest } from "./driver.ts";

/** Where a container sees its sockets. */
export const CONTAINER_SOCKET_DIR = "/var/run/iotedge";

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** The network a module's container joins: its own NetworkMode, else the configured one. */
export function containerNetwork(request: CreateRequest): string {
  const mode = record(request.module.createOptions.HostConfig).NetworkMode;
  return typeof mode === "string" && mode !== "" ? mode : request.network;
}

/**
 * Builds the ContainerCreate body.
 *
 * @param gateway the address the hub is reachable at from the module's network, if known.
 */
export function buildContainerBody(
  request: CreateRequest,
  options: { labels: Record<string, string>; gateway?: string | undefined },
): Record<string, unknown> {
  const body = structuredClone(request.module.createOptions);
  body.Image = request.module.image;

  const env = new Map<string, string>();
  for (const entry of stringList(body.Env)) {
    const at = entry.indexOf("=");
    env.set(at < 0 ? entry : entry.slice(0, at), at < 0 ? "" : entry.slice(at + 1));
  }
  for (const [name, value] of Object.entries(request.env)) env.set(name, value);
  body.Env = [...env].map(([name, value]) => `${name}=${value}`);

  body.Labels = { ...record(body.Labels), ...options.labels };

  const host = record(body.HostConfig);
  host.Binds = [...stringList(host.Binds), `${request.socketDir}:${CONTAINER_SOCKET_DIR}`];
  host.RestartPolicy = { Name: "no" };
  const network = containerNetwork(request);
  host.NetworkMode = network;
  const hubAddress = network === "host" ? "127.0.0.1" : options.gateway;
  const extraHosts = stringList(host.ExtraHosts);
  const named = extraHosts.some((entry) => entry.split(":")[0] === request.hubHostname);
  if (hubAddress && request.hubHostname && !named && network !== "none") {
    extraHosts.push(`${request.hubHostname}:${hubAddress}`);
  }
  if (extraHosts.length > 0) host.ExtraHosts = extraHosts;
  body.HostConfig = host;
  return body;
}
