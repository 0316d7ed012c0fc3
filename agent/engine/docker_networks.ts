/**
 * The networks modules join: a named network is created (a bridge, labelled as this ledge's)
 * when it does not exist yet, and its gateway - the address the hub is reachable at from the
 * module - is looked up once and remembered. Modules created in parallel share one look-up, so
 * a new network is created once, before any of them (two creates race: Podman refuses the second
 * with "network already exists").
 */
import type { DockerClient } from "./docker_client.ts";
import { NetworkInspect } from "./docker_schemas.ts";
import { INSTANCE_LABEL } from "./labels.ts";

/** Networks that exist on every engine and are never created. */
export const BUILTIN_NETWORKS: ReadonlySet<string> = new Set([
  "host",
  "none",
  "bridge",
  "default",
  "podman",
]);

/** Whether a container on `network` has no gateway of its own to reach the host by. */
export function hasNoGateway(network: string): boolean {
  return network === "host" || network === "none" || network.startsWith("container:");
}

/** The engine's networks, as modules need them. */
export class EngineNetworks {
  readonly #client: DockerClient;
  readonly #instance: string;
  readonly #gateways = new Map<string, Promise<string | undefined>>();

  constructor(client: DockerClient, instance: string) {
    this.#client = client;
    this.#instance = instance;
  }

  /** Makes sure `network` exists; resolves with its gateway, if it has one. */
  gateway(network: string, signal?: AbortSignal): Promise<string | undefined> {
    let pending = this.#gateways.get(network);
    if (!pending) {
      pending = this.#ensure(network, signal);
      this.#gateways.set(network, pending);
      // A failed look-up (engine away, aborted) is tried again by the next create.
      pending.catch(() => this.#gateways.delete(network));
    }
    return pending;
  }

  async #ensure(network: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    let details = await this.#inspect(network, signal, [404]);
    if (!details && !BUILTIN_NETWORKS.has(network)) {
      await this.#create(network, signal).catch(async (error) => {
        // Created by someone else meanwhile (another ledge on this engine): use it.
        if (!(await this.#inspect(network, signal, [404]))) throw error;
      });
      details = await this.#inspect(network, signal, []);
    }
    return details?.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
  }

  #create(network: string, signal: AbortSignal | undefined): Promise<void> {
    return this.#client.send("POST", "/networks/create", `create network ${network}`, {
      body: {
        Name: network,
        Driver: "bridge",
        CheckDuplicate: true,
        Labels: { [INSTANCE_LABEL]: this.#instance },
      },
      accept: [409],
      signal,
    });
  }

  #inspect(network: string, signal: AbortSignal | undefined, accept: number[]) {
    return this.#client.json(
      NetworkInspect,
      "GET",
      `/networks/${encodeURIComponent(network)}`,
      `inspect network ${network}`,
      { accept, signal },
    );
  }
}
