/**
 * The Docker Engine API v1.41 driver, over a unix socket (`fetch` with a unix-transport
 * `Deno.createHttpClient`). Podman's compatible service and Docker both serve it. Every
 * container it creates carries this ledge's instance label, and every call it makes is scoped
 * to that label: containers of anyone else are never listed, stopped or removed.
 */
import type { z } from "zod";
import type { ModuleInstance } from "../module_instance.ts";
import { buildContainerBody, BUILTIN_NETWORKS, containerNetwork } from "./container_body.ts";
import {
  ContainerCreated,
  ContainerInspect,
  ContainerList,
  EngineVersion,
  ErrorBody,
  EventMessage,
  ImageInspect,
  NetworkInspect,
  PullLine,
} from "./docker_schemas.ts";
import { demultiplex, frameBytes, jsonLines } from "./docker_stream.ts";
import {
  type CreateRequest,
  type EngineDriver,
  EngineError,
  type EngineEvent,
  type EngineInfo,
  EngineUnavailableError,
  type ImageInfo,
  type LogOptions,
  NoSuchInstanceError,
  type PullOptions,
} from "./driver.ts";
import { CONFIG_HASH_LABEL, INSTANCE_LABEL, instanceLabels, MODULE_LABEL } from "./labels.ts";

/** The API version every request names. */
export const DOCKER_API_VERSION = "1.41";

/** Options of {@linkcode createDockerDriver}. */
export interface DockerDriverOptions {
  /** Path of the engine's unix socket. */
  socketPath: string;
  /** This ledge's instance id (the {@linkcode INSTANCE_LABEL} value). */
  instance: string;
}

interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Statuses besides 2xx that are not errors (e.g. 304, 404). */
  accept?: number[];
}

const ZERO_TIME = /^0001-01-01/;

function parseTime(value: string | undefined): number | undefined {
  if (!value || ZERO_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function normalizeState(status: string): ModuleInstance["state"] {
  switch (status) {
    case "running":
    case "paused":
    case "restarting":
    case "removing":
    case "exited":
    case "dead":
    case "created":
      return status;
    case "stopped":
    case "stopping":
      return "exited";
    default: // podman: configured, initialized, unknown
      return "created";
  }
}

function normalizeHealth(status: string | undefined): ModuleInstance["health"] {
  return status === "starting" || status === "healthy" || status === "unhealthy" ? status : "none";
}

/** Converts an inspect answer to the agent's view; undefined when it lacks the module label. */
export function toModuleInstance(inspect: ContainerInspect): ModuleInstance | undefined {
  const labels = inspect.Config.Labels;
  const name = labels[MODULE_LABEL];
  if (name === undefined) return undefined;
  return {
    name,
    id: inspect.Id,
    type: "docker",
    state: normalizeState(inspect.State.Status),
    health: normalizeHealth(inspect.State.Health?.Status),
    exitCode: inspect.State.ExitCode ?? 0,
    startedAt: parseTime(inspect.State.StartedAt),
    finishedAt: parseTime(inspect.State.FinishedAt),
    configHash: labels[CONFIG_HASH_LABEL] ?? "",
    imageId: inspect.Image ?? "",
    error: inspect.State.Error ?? "",
  };
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
  const { socketPath, instance } = options;
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  const gateways = new Map<string, string | undefined>();
  const ownedFilter = (extra: string[] = []) =>
    JSON.stringify({ label: [`${INSTANCE_LABEL}=${instance}`, ...extra] });

  async function call(method: string, path: string, what: string, opts: CallOptions = {}) {
    const url = new URL(`http://engine/v${DOCKER_API_VERSION}${path}`);
    for (const [key, value] of Object.entries(opts.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        client,
        ...(opts.signal ? { signal: opts.signal } : {}),
        headers: {
          ...(opts.body === undefined ? {} : { "content-type": "application/json" }),
          ...opts.headers,
        },
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      });
    } catch (error) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new EngineUnavailableError(
        `Cannot ${what}: the engine at ${socketPath} is unreachable (${reason})`,
        { cause: error },
      );
    }
    if (response.ok || opts.accept?.includes(response.status)) return response;
    const text = await response.text().catch(() => "");
    let message = text.trim() || `HTTP ${response.status}`;
    try {
      message = ErrorBody.parse(JSON.parse(text)).message;
    } catch {
      // not a JSON error body: keep the text
    }
    throw new EngineError(`Cannot ${what}: ${message}`, response.status);
  }

  async function json<T extends z.ZodType>(
    schema: T,
    method: string,
    path: string,
    what: string,
    opts: CallOptions = {},
  ): Promise<z.infer<T> | undefined> {
    const response = await call(method, path, what, opts);
    if (response.status === 404 || response.status === 304 || response.status === 204) {
      await response.body?.cancel();
      return undefined;
    }
    const parsed = schema.safeParse(await response.json());
    if (!parsed.success) {
      throw new EngineError(
        `Cannot ${what}: unexpected answer from the engine (${
          parsed.error.issues[0]?.path.join(".")
        }: ${parsed.error.issues[0]?.message})`,
        response.status,
      );
    }
    return parsed.data;
  }

  async function ownedIds(name: string | undefined, signal?: AbortSignal) {
    const list = await json(ContainerList, "GET", "/containers/json", "list containers", {
      query: {
        all: true,
        filters: ownedFilter(name === undefined ? [] : [`${MODULE_LABEL}=${name}`]),
      },
      signal,
    });
    // Filter again: an engine that ignored the filter must still never hand us others' containers.
    return (list ?? []).filter((c) =>
      c.Labels[INSTANCE_LABEL] === instance &&
      (name === undefined || c.Labels[MODULE_LABEL] === name)
    ).map((c) => c.Id);
  }

  async function inspectId(id: string, signal?: AbortSignal) {
    const details = await json(ContainerInspect, "GET", `/containers/${id}/json`, `inspect ${id}`, {
      accept: [404],
      signal,
    });
    if (!details || details.Config.Labels[INSTANCE_LABEL] !== instance) return undefined;
    return { details, instance: toModuleInstance(details) };
  }

  async function resolve(name: string, what: string, signal?: AbortSignal): Promise<string> {
    const [id] = await ownedIds(name, signal);
    if (id === undefined) throw new NoSuchInstanceError(`Cannot ${what}: no module "${name}"`);
    return id;
  }

  async function networkGateway(network: string, signal?: AbortSignal) {
    if (gateways.has(network)) return gateways.get(network);
    let details = await json(
      NetworkInspect,
      "GET",
      `/networks/${encodeURIComponent(network)}`,
      `inspect network ${network}`,
      { accept: [404], signal },
    );
    if (!details && !BUILTIN_NETWORKS.has(network)) {
      await call("POST", "/networks/create", `create network ${network}`, {
        body: {
          Name: network,
          Driver: "bridge",
          CheckDuplicate: true,
          Labels: { [INSTANCE_LABEL]: instance },
        },
        accept: [409],
        signal,
      }).then((r) => r.body?.cancel());
      details = await json(
        NetworkInspect,
        "GET",
        `/networks/${encodeURIComponent(network)}`,
        `inspect network ${network}`,
        { signal },
      );
    }
    const gateway = details?.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
    gateways.set(network, gateway);
    return gateway;
  }

  return {
    kind: "docker",

    async info(signal) {
      const version = await json(EngineVersion, "GET", "/version", "ask the engine its version", {
        signal,
      });
      const name = version?.Components?.[0]?.Name ?? "Docker Engine";
      const info: EngineInfo = {
        kind: "docker",
        name: name === "Engine" ? "Docker Engine" : name,
        version: version?.Version ?? "",
        apiVersion: version?.ApiVersion ?? DOCKER_API_VERSION,
        os: version?.Os ?? "linux",
        arch: version?.Arch ?? "",
      };
      return info;
    },

    async list(signal) {
      const ids = await ownedIds(undefined, signal);
      const found = await Promise.all(ids.map((id) => inspectId(id, signal)));
      return found.flatMap((f) => (f?.instance ? [f.instance] : []));
    },

    async inspect(name, signal) {
      const [id] = await ownedIds(name, signal);
      return id === undefined ? undefined : (await inspectId(id, signal))?.instance;
    },

    async create(request: CreateRequest, signal) {
      const network = containerNetwork(request);
      const gateway = network === "host" || network === "none" || network.startsWith("container:")
        ? undefined
        : await networkGateway(network, signal);
      const body = buildContainerBody(request, {
        labels: instanceLabels(instance, request.module),
        gateway,
      });
      await json(
        ContainerCreated,
        "POST",
        "/containers/create",
        `create container ${request.module.name}`,
        {
          query: { name: request.module.name },
          body,
          signal,
        },
      );
    },

    async start(name, signal) {
      const id = await resolve(name, `start ${name}`, signal);
      const response = await call("POST", `/containers/${id}/start`, `start ${name}`, {
        accept: [304],
        signal,
      });
      await response.body?.cancel();
    },

    async stop(name, { timeoutSeconds = 10, signal } = {}) {
      const id = await resolve(name, `stop ${name}`, signal);
      const response = await call("POST", `/containers/${id}/stop`, `stop ${name}`, {
        query: { t: timeoutSeconds },
        accept: [304],
        signal,
      });
      await response.body?.cancel();
    },

    async remove(name, signal) {
      for (const id of await ownedIds(name, signal)) {
        const response = await call("DELETE", `/containers/${id}`, `remove ${name}`, {
          query: { force: true, v: true },
          accept: [404],
          signal,
        });
        await response.body?.cancel();
      }
    },

    async logs(name, opts: LogOptions = {}) {
      const id = await resolve(name, `read the logs of ${name}`, opts.signal);
      const found = await inspectId(id, opts.signal);
      const response = await call("GET", `/containers/${id}/logs`, `read the logs of ${name}`, {
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
      return found?.details.Config.Tty
        ? body
        : body.pipeThrough(demultiplex()).pipeThrough(frameBytes());
    },

    async *events(signal): AsyncGenerator<EngineEvent> {
      const response = await call("GET", "/events", "watch engine events", {
        query: {
          filters: JSON.stringify({
            type: ["container"],
            label: [`${INSTANCE_LABEL}=${instance}`],
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
          if (attributes[INSTANCE_LABEL] !== instance) continue;
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
    },

    async pull(image, opts: PullOptions = {}) {
      const headers: Record<string, string> = opts.auth
        ? {
          "X-Registry-Auth": btoa(JSON.stringify(opts.auth)).replaceAll("+", "-").replaceAll(
            "/",
            "_",
          ),
        }
        : {};
      const response = await call("POST", "/images/create", `pull ${image}`, {
        query: { fromImage: image },
        headers,
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
    },

    async imageInspect(image, signal): Promise<ImageInfo | undefined> {
      const details = await json(
        ImageInspect,
        "GET",
        `/images/${image}/json`,
        `inspect image ${image}`,
        { accept: [404], signal },
      );
      return details ? { id: details.Id, tags: details.RepoTags } : undefined;
    },

    close() {
      client.close();
      return Promise.resolve();
    },
  };
}
