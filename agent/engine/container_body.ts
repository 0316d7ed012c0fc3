/**
 * The ContainerCreate body of a module, written from the canonical body the policy admitted
 * (never from the manifest's own object) with what the agent adds - image, environment, labels,
 * the module's socket dir at `/var/run/iotedge`, the network, a host entry for the hub, and no
 * engine restart policy (the agent restarts modules itself).
 */
import type { AdmittedContainer } from "../admission.ts";
import { effectiveNetwork } from "../container_policy.ts";
import type { ContainerCreate } from "../container_schema.ts";
import type { CreateRequest } from "./driver.ts";

/** Where a container sees its sockets. */
export const CONTAINER_SOCKET_DIR = "/var/run/iotedge";

/** The network a module's container joins: its own NetworkMode, else the configured one. */
export function containerNetwork(request: CreateRequest): string {
  return effectiveNetwork(request.module.createOptions, request.network);
}

/** The admitted body of a create request; a driver refuses a request without one. */
export function admittedSpec(request: CreateRequest): ContainerCreate {
  const container: AdmittedContainer | undefined = request.container;
  if (!container) {
    throw new Error(
      `Cannot create ${request.module.name}: its body was not admitted by the policy`,
    );
  }
  return container.spec;
}

/**
 * Builds the ContainerCreate body.
 *
 * @param gateway the address the hub is reachable at from the module's network, if known.
 */
export function buildContainerBody(
  request: CreateRequest,
  options: { labels: Record<string, string>; gateway?: string | undefined },
): ContainerCreate {
  const body: ContainerCreate = structuredClone(admittedSpec(request));
  body.Image = request.module.image;

  const env = new Map<string, string>();
  for (const entry of body.Env ?? []) {
    const at = entry.indexOf("=");
    env.set(at < 0 ? entry : entry.slice(0, at), at < 0 ? "" : entry.slice(at + 1));
  }
  for (const [name, value] of Object.entries(request.env)) env.set(name, value);
  body.Env = [...env].map(([name, value]) => `${name}=${value}`);

  body.Labels = { ...body.Labels, ...options.labels };

  const host = body.HostConfig ?? {};
  host.Binds = [...host.Binds ?? [], `${request.socketDir}:${CONTAINER_SOCKET_DIR}`];
  host.RestartPolicy = { Name: "no" };
  const network = effectiveNetwork(body, request.network);
  host.NetworkMode = network;
  const hubAddress = network === "host" ? "127.0.0.1" : options.gateway;
  const extraHosts = host.ExtraHosts ?? [];
  const named = extraHosts.some((entry) => entry.split(":")[0] === request.hubHostname);
  if (hubAddress && request.hubHostname && !named && network !== "none") {
    extraHosts.push(`${request.hubHostname}:${hubAddress}`);
  }
  if (extraHosts.length > 0) host.ExtraHosts = extraHosts;
  body.HostConfig = host;
  return body;
}
