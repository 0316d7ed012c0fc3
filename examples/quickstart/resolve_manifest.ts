/**
 * Makes the quickstart's manifest fit the ledge it is deployed to: a relative `workdir` of a
 * process module is resolved against the manifest's own folder (so the modules find their
 * scripts wherever ledge was started from), and the `LEDGE_HUB_*` variables a module declares
 * are set to where this ledge's hub listens (see hub_address.cjs).
 */
import type { Config } from "../../core/config.ts";

/** Where the modules reach the hub. */
export interface HubAddress {
  mqttPort: number;
  httpsPort: number;
  /** The address process modules dial (the TLS name stays IOTEDGE_GATEWAYHOSTNAME). */
  address: string;
}

/**
 * The hub's ports — as `bound` reports them (a running daemon's `/v1/health` listeners, which
 * matter when the config says port 0), else from `config` — and loopback when it binds every
 * address.
 */
export function hubAddress(
  config: Config,
  bound: Readonly<Record<string, number>> = {},
): HubAddress {
  const bind = config.hub.mqtt.bind;
  const wildcard = bind === "" || bind === "0.0.0.0" || bind === "::" ||
    bind === "[::]";
  return {
    mqttPort: bound.mqtts ?? config.hub.mqtt.port,
    httpsPort: bound.https ?? config.hub.https.port,
    address: wildcard ? "127.0.0.1" : bind,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function joinPath(dir: string, relative: string): string {
  const parts = `${dir.replace(/\/+$/, "")}/${relative}`.split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (part === "." || (part === "" && out.length > 0)) continue;
    if (part === ".." && out.length > 1) out.pop();
    else out.push(part);
  }
  return out.join("/") || "/";
}

/**
 * Returns a copy of `manifest` with process modules' relative `workdir` made absolute against
 * `options.dir` and the declared `LEDGE_HUB_MQTT_PORT`, `LEDGE_HUB_HTTPS_PORT` and
 * `LEDGE_HUB_ADDRESS` variables set from `options.hub`. Anything else is left as it is; the
 * daemon validates the result.
 *
 * @example
 * ```ts
 * const ready = resolveManifest(manifest, {
 *   dir: "/opt/ledge/examples/quickstart",
 *   hub: { mqttPort: 18883, httpsPort: 18443, address: "127.0.0.1" },
 * });
 * ```
 */
export function resolveManifest(
  manifest: unknown,
  options: { dir: string; hub: HubAddress },
): unknown {
  const copy = structuredClone(manifest);
  if (!isRecord(copy)) return copy;
  const content = isRecord(copy.modulesContent) ? copy.modulesContent : copy;
  const agent = isRecord(content.$edgeAgent) ? content.$edgeAgent["properties.desired"] : undefined;
  const modules = isRecord(agent) && isRecord(agent.modules) ? agent.modules : {};
  const values: Record<string, string> = {
    LEDGE_HUB_MQTT_PORT: String(options.hub.mqttPort),
    LEDGE_HUB_HTTPS_PORT: String(options.hub.httpsPort),
    LEDGE_HUB_ADDRESS: options.hub.address,
  };
  for (const module of Object.values(modules)) {
    if (!isRecord(module)) continue;
    const settings = module.settings;
    if (
      module.type === "process" && isRecord(settings) &&
      typeof settings.workdir === "string"
    ) {
      if (!settings.workdir.startsWith("/")) {
        settings.workdir = joinPath(options.dir, settings.workdir);
      }
    }
    if (!isRecord(module.env)) continue;
    for (const [name, value] of Object.entries(values)) {
      const entry = module.env[name];
      if (isRecord(entry)) entry.value = value;
    }
  }
  return copy;
}
