/**
 * The daemon's configuration: one TOML file, validated by the schema {@linkcode configSchema}
 * builds (core/config_schema.ts).
 *
 * Every key has a default ({@linkcode defaultConfig}), so ledge runs with no file at all. The
 * defaults depend on who runs it: root gets system paths and the IoT Edge ports (8883, 443);
 * anyone else gets a state dir under their home and ports above 1024.
 */
import type { Config } from "./config_schema.ts";

export { type Config, configSchema } from "./config_schema.ts";

/** What the defaults depend on. */
export interface DefaultsContext {
  /** Effective user id; 0 is root. */
  uid: number;
  hostname: string;
  env: Record<string, string | undefined>;
}

/** Reads the defaults context from the running process. */
export function currentDefaultsContext(): DefaultsContext {
  return {
    uid: Deno.uid() ?? 0,
    hostname: Deno.hostname(),
    env: Deno.env.toObject(),
  };
}

/** The state dir: `LEDGE_HOME`, else `/var/lib/ledge` for root, else the user's data dir. */
export function defaultStateDir(context: DefaultsContext): string {
  const { env } = context;
  if (env.LEDGE_HOME) return env.LEDGE_HOME;
  if (context.uid === 0) return "/var/lib/ledge";
  if (env.XDG_DATA_HOME) return `${env.XDG_DATA_HOME}/ledge`;
  return `${env.HOME ?? "."}/.local/share/ledge`;
}

function sanitizeHostname(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9.-]/g, "-").replace(/^[^a-z0-9]+/, "");
  return cleaned || "ledge";
}

/** Every key with its default for this context. */
export function defaultConfig(context: DefaultsContext): Config {
  const root = context.uid === 0;
  const host = sanitizeHostname(context.hostname);
  return {
    device: { id: host, hostname: host, iothub_hostname: host },
    state: { dir: defaultStateDir(context) },
    log: { level: "info", format: "auto" },
    security: {
      trust_domain: `${host.replace(/[^a-z0-9._-]/g, "-")}.ledge`,
      leaf_lifetime_seconds: 86400,
      edge_ca_lifetime_days: 90,
      root_ca_lifetime_days: 3650,
      max_sas_token_lifetime_seconds: 86400,
      edge_ca_cert: "",
      edge_ca_key: "",
      trust_bundle: "",
    },
    hub: {
      mqtt: { enabled: true, bind: "0.0.0.0", port: root ? 8883 : 18883 },
      https: { enabled: true, bind: "0.0.0.0", port: root ? 443 : 18443 },
      amqp: { enabled: true, bind: "0.0.0.0", port: root ? 5671 : 15671 },
      plain: { enabled: false, port: root ? 1883 : 11883 },
      max_message_bytes: 262144,
      max_connections: 10000,
      max_subscriptions: 50,
      connect_timeout_seconds: 30,
      max_inflight: 256,
      auth_failures_per_minute: 30,
      store: {
        max_size_bytes: 1024 * 1024 * 1024,
        time_to_live_secs: 7200,
        min_free_bytes: 16 * 1024 * 1024,
      },
    },
    agent: {
      engine: "auto",
      engine_socket: "",
      network: "azure-iot-edge",
      backoff_base_seconds: 10,
      backoff_max_seconds: 300,
      backoff_reset_seconds: 600,
      rollback_after_seconds: 300,
      allow: {
        privileged: false,
        cap_add: [],
        host_paths: [],
        devices: [],
        device_cgroup_rules: [],
        gpus: false,
        host_network: false,
        host_pid: false,
        host_ipc: false,
        host_uts: false,
        host_userns: false,
        host_cgroupns: false,
        join_containers: false,
        unconfined_security: false,
        sysctls: false,
        cgroup_parent: false,
        oom_kill_disable: false,
        ulimits: false,
        runtimes: [],
        process_modules_from_upstream: false,
      },
    },
    metrics: { enabled: true, listen: "127.0.0.1:9600" },
    console: { enabled: true, listen: "127.0.0.1:9601", tls: false },
    upstream: {
      enabled: false,
      hostname: "",
      port: 8883,
      protocol: "mqtts",
      ca_file: "",
      shared_access_key: "",
      cert_file: "",
      key_file: "",
      enrollment_group: "",
      enrollment_key: "",
      max_inflight: 100,
      reconnect_max_seconds: 60,
      idle_timeout_seconds: 300,
      max_message_bytes: 262144,
      token_lifetime_seconds: 3600,
      https_port: root ? 443 : 18443,
    },
    update: { trusted_keys: [], confirm_seconds: 300 },
  };
}
