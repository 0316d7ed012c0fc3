/**
 * The Docker Engine API v1.41 driver, over a unix socket. Podman's compatible service and Docker
 * both serve it. Every container it creates carries this ledge's instance label, and every call
 * it makes is scoped to that label: containers of anyone else are never listed, stopped or
 * removed.
 */
import { buildContainerBody, containerNetwork } from "./container_body.ts";
import { DOCKER_API_VERSION, DockerClient } from "./docker_client.ts";
import { toModuleInstance } from "./docker_instance.ts";
import { EngineNetworks, hasNoGateway } from "./docker_networks.ts";
import {
  ContainerCreated,
  ContainerInspect,
  ContainerList,
  EngineVersion,
  EventMessage,
  ImageInspect,
  PullLine,
} from "./docker_schemas.ts";
import { demultiplex, frameBytes, jsonLines } from "./docker_stream.ts";
import {
  type CreateRequest,
  type EngineDriver,
  EngineError,
  type EngineEvent,
  type EngineInfo,
  type ImageInfo,
  type LogOptions,
  NoSuchInstanceError,
  type PullOptions,
  type RegistryAuth,
} from "./driver.ts";
import type { ModuleInstance } from "../module_instance.ts";
import { INSTANCE_LABEL, instanceLabels, MODULE_LABEL } from "./labels.ts";

export { DOCKER_API_VERSION } from "./docker_client.ts";

/** Options of {@linkcode createDockerDriver}. */
export interface DockerDriverOptions {
  /** Path of the engine's unix socket. */
  socketPath: string;
  /** This ledge's instance id (the {@linkcode INSTANCE_LABEL} value). */
  instance: string;
}

/** `X-Registry-Auth`: the credentials as base64url JSON. */
function registryAuthHeader(auth: RegistryAuth): string {
  return btoa(JSON.stringify(auth)).replaceAll("+", "-").replaceAll("/", "_");
}

/** A driver of one engine, for one ledge instance. */
export class DockerDriver implements EngineDriver {
  readonly kind = "docker";
  readonly #client: DockerClient;
  readonly #instance: string;
  readonly #networks: EngineNetworks;

  constructor(options: DockerDriverOptions) {
    this.#client = new DockerClient(options.socketPath);
    this.#instance = options.instance;
    this.#networks = new EngineNetworks(this.#client, options.instance);
  }

  async info(signal?: AbortSignal): Promise<EngineInfo> {
    const version = await this.#client.json(
      EngineVersion,
      "GET",
      "/version",
      "ask the engine its version",
      { signal },
    );
    const name = version?.Components?.[0]?.Name ?? "Docker Engine";
    return {
      kind: "docker",
      name: name === "Engine" ? "Docker Engine" : name,
      version: version?.Version ?? "",
      apiVersion: version?.ApiVersion ?? DOCKER_API_VERSION,
      os: version?.Os ?? "linux",
      arch: version?.Arch ?? "",
    };
  }

  async list(signal?: AbortSignal): Promise<ModuleInstance[]> {
    const ids = await this.#ownedIds(undefined, signal);
    const found = await Promise.all(ids.map((id) => this.#inspectId(id, signal)));
    return found.flatMap((f) => (f?.instance ? [f.instance] : []));
  }

  async inspect(name: string, signal?: AbortSignal): Promise<ModuleInstance | undefined> {
    const [id] = await this.#ownedIds(name, signal);
    return id === undefined ? undefined : (await this.#inspectId(id, signal))?.instance;
  }

  async create(request: CreateRequest, signal?: AbortSignal): Promise<void> {
    const network = containerNetwork(request);
    const gateway = hasNoGateway(network)
      ? undefined
      : await this.#networks.gateway(network, signal);
    const body = buildContainerBody(request, {
      labels: instanceLabels(this.#instance, request.module),
      gateway,
    });
    await this.#client.json(
      ContainerCreated,
      "POST",
      "/containers/create",
      `create container ${request.module.name}`,
      { query: { name: request.module.name }, body, signal },
    );
  }

  async start(name: string, signal?: AbortSignal): Promise<void> {
    const id = await this.#resolve(name, `start ${name}`, signal);
    try {
      await this.#client.send("POST", `/containers/${id}/start`, `start ${name}`, {
        accept: [304],
        signal,
      });
    } catch (error) {
      // Removed between the look and the start (an `rm -f` still at work when it was seen).
      if (!(error instanceof EngineError) || error.status !== 404) throw error;
      throw new NoSuchInstanceError(`Cannot start ${name}: it was removed`, { cause: error });
    }
  }

  async stop(
    name: string,
    { timeoutSeconds = 10, signal }: { timeoutSeconds?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    const id = await this.#resolve(name, `stop ${name}`, signal);
    await this.#client.send("POST", `/containers/${id}/stop`, `stop ${name}`, {
      query: { t: timeoutSeconds },
      accept: [304],
      signal,
    });
  }

  async remove(name: string, signal?: AbortSignal): Promise<void> {
    for (const id of await this.#ownedIds(name, signal)) {
      await this.#client.send("DELETE", `/containers/${id}`, `remove ${name}`, {
        query: { force: true, v: true },
        accept: [404],
        signal,
      });
    }
  }

  async logs(name: string, opts: LogOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const what = `read the logs of ${name}`;
    const id = await this.#resolve(name, what, opts.signal);
    const found = await this.#inspectId(id, opts.signal);
    const response = await this.#client.call("GET", `/containers/${id}/logs`, what, {
      query: {
        stdout: true,
        stderr: true,
        follow: opts.follow ?? false,
        timestamps: opts.timestamps ?? false,
        tail: opts.tail === undefined ? "all" : opts.tail,
        since: opts.since,
      },
      signal: opts.signal,
    });
    const body = response.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    // A TTY container's output is raw; otherwise it is multiplexed in frames.
    return found?.details.Config.Tty
      ? body
      : body.pipeThrough(demultiplex()).pipeThrough(frameBytes());
  }

  async *events(signal: AbortSignal): AsyncGenerator<EngineEvent> {
    const response = await this.#client.call("GET", "/events", "watch engine events", {
      query: {
        filters: JSON.stringify({
          type: ["container"],
          label: [`${INSTANCE_LABEL}=${this.#instance}`],
        }),
      },
      signal,
    });
    if (!response.body) return;
    try {
      for await (const line of jsonLines(response.body)) {
        const event = EventMessage.safeParse(line);
        if (!event.success) continue;
        const attributes = event.data.Actor?.Attributes ?? {};
        if (attributes[INSTANCE_LABEL] !== this.#instance) continue;
        yield {
          name: attributes[MODULE_LABEL] ?? attributes.name ?? "",
          action: event.data.Action ?? event.data.status ?? "",
          id: event.data.Actor?.ID ?? event.data.id ?? "",
        };
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }

  async pull(image: string, opts: PullOptions = {}): Promise<void> {
    const response = await this.#client.call("POST", "/images/create", `pull ${image}`, {
      query: { fromImage: image },
      headers: opts.auth ? { "X-Registry-Auth": registryAuthHeader(opts.auth) } : {},
      signal: opts.signal,
    });
    if (!response.body) return;
    for await (const raw of jsonLines(response.body)) {
      const line = PullLine.safeParse(raw);
      if (!line.success) continue;
      const error = line.data.error ?? line.data.errorDetail?.message;
      if (error) throw new EngineError(`Cannot pull ${image}: ${error}`, 500);
      const detail = line.data.progressDetail;
      opts.onProgress?.({
        status: line.data.status ?? "",
        ...(line.data.id ? { layer: line.data.id } : {}),
        ...(detail?.current !== undefined ? { current: detail.current } : {}),
        ...(detail?.total !== undefined ? { total: detail.total } : {}),
      });
    }
  }

  async imageInspect(image: string, signal?: AbortSignal): Promise<ImageInfo | undefined> {
    const details = await this.#client.json(
      ImageInspect,
      "GET",
      `/images/${image}/json`,
      `inspect image ${image}`,
      { accept: [404], signal },
    );
    return details ? { id: details.Id, tags: details.RepoTags } : undefined;
  }

  close(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }

  /** Ids of this ledge's containers (of module `name` only, when given). */
  async #ownedIds(name: string | undefined, signal?: AbortSignal): Promise<string[]> {
    const instance = this.#instance;
    const labels = [`${INSTANCE_LABEL}=${instance}`];
    if (name !== undefined) labels.push(`${MODULE_LABEL}=${name}`);
    const list = await this.#client.json(
      ContainerList,
      "GET",
      "/containers/json",
      "list containers",
      {
        query: { all: true, filters: JSON.stringify({ label: labels }) },
        signal,
      },
    );
    // Filter again: an engine that ignored the filter must still never hand us others' containers.
    return (list ?? []).filter((c) =>
      c.Labels[INSTANCE_LABEL] === instance &&
      (name === undefined || c.Labels[MODULE_LABEL] === name)
    ).map((c) => c.Id);
  }

  async #inspectId(id: string, signal?: AbortSignal) {
    const details = await this.#client.json(
      ContainerInspect,
      "GET",
      `/containers/${id}/json`,
      `inspect ${id}`,
      { accept: [404], signal },
    );
    if (!details || details.Config.Labels[INSTANCE_LABEL] !== this.#instance) return undefined;
    return { details, instance: toModuleInstance(details) };
  }

  async #resolve(name: string, what: string, signal?: AbortSignal): Promise<string> {
    const [id] = await this.#ownedIds(name, signal);
    if (id === undefined) throw new NoSuchInstanceError(`Cannot ${what}: no module "${name}"`);
    return id;
  }
}

/**
 * Creates a driver for the engine at `options.socketPath`. Nothing is contacted until a call.
 *
 * @example
 * ```ts
 * const driver = createDockerDriver({ socketPath: "/run/podman/podman.sock", instance: "abc" });
 * console.log(await driver.info());
 * await driver.close();
 * ```
 */
export function createDockerDriver(options: DockerDriverOptions): EngineDriver {
  return new DockerDriver(options);
}
