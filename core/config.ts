/**
 * The daemon's configuration: one TOML file, validated by the {@linkcode Config} schema.
 *
 * Every key has a default ({@linkcode defaultConfig}), so ledge runs with no file at all. The
 * defaults depend on who runs it: root gets system paths and the IoT Edge ports (8883, 443);
 * anyone else gets a state dir under their home and ports above 1024.
 */
import { z } from "zod";

function intRange(min: number, max: number) {
  const error = `expected an integer ${min}\u2013${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function table<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape, { error: "expected a table" });
}

const port = intRange(1, 65535);
/** A port to listen on: 0 takes any free one (the bound port is reported at start). */
const listenPort = (() => {
  const error = "expected an integer 0\u201365535 (0: any free port)";
  return z.number({ error }).int({ error }).min(0, { error }).max(65535, { error });
})();
const nonEmpty = z.string({ error: "expected a string" }).min(1, {
  error: "expected a non-empty string",
});
const bool = z.boolean({ error: "expected true or false" });
const path = z.string({ error: "expected a path" });
const stringList = z.array(z.string({ error: "expected a string" }), {
  error: "expected an array of strings",
});
/** A device or module id as IoT Hub accepts it. */
const identityId = z.string({ error: "expected a string" }).regex(
  /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/,
  {
    error: "expected 1\u2013128 characters of A-Z a-z 0-9 - . % _ * ? ! ( ) , : = @ $ '",
  },
);
const hostname = z.string({ error: "expected a host name" }).regex(
  /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/,
  {
    error: "expected a DNS host name",
  },
);
const trustDomain = z.string({ error: "expected a string" }).regex(/^[a-z0-9._-]{1,255}$/, {
  error: "expected a SPIFFE trust domain: lowercase a-z 0-9 . _ -",
});

/** `[device]`: who this edge device is. */
export const DeviceConfig = table({
  /** Device id on this hub, in SAS audiences and upstream. */
  id: identityId,
  /** Name modules and leaf devices connect to; on the hub's TLS certificate. */
  hostname: hostname,
  /** IoT Hub host name modules put in SAS audiences (IOTEDGE_IOTHUBHOSTNAME). */
  iothub_hostname: hostname,
});

/** `[state]`: where ledge keeps its CA, identities, queues, twins and sockets. */
export const StateConfig = table({ dir: nonEmpty });

/** `[log]`. */
export const LogConfig = table({
  level: z.enum(["debug", "info", "warn", "error"], {
    error: 'expected one of "debug", "info", "warn", "error"',
  }),
  format: z.enum(["auto", "pretty", "json"], { error: 'expected one of "auto", "pretty", "json"' }),
});

/** `[security]`: the local CA and workload identities. */
export const SecurityConfig = table({
  trust_domain: trustDomain,
  /** Lifetime of leaf certificates (module SVIDs, server certificates): 60 s to 30 days. */
  leaf_lifetime_seconds: intRange(60, 30 * 86400),
  /** Lifetime of the issuing edge CA: 1 to 3650 days. */
  edge_ca_lifetime_days: intRange(1, 3650),
  /** Lifetime of the root CA: 1 to 36500 days. */
  root_ca_lifetime_days: intRange(1, 36500),
  /** SAS tokens expiring further away than this are refused: 60 s to 10 years. */
  max_sas_token_lifetime_seconds: intRange(60, 10 * 365 * 86400),
  /** Bring your own CA: PEM files of the issuing CA certificate (chain) and its key. */
  edge_ca_cert: path,
  edge_ca_key: path,
  /** Bring your own CA: the trust anchor (root) PEM; empty means the edge CA chain's last cert. */
  trust_bundle: path,
});

const listener = (defaultPortNote: string) =>
  table({
    enabled: bool,
    bind: z.string({ error: `expected an address to bind, ${defaultPortNote}` }),
    port: listenPort,
  });

/** `[hub]`: the local broker. */
export const HubConfig = table({
  mqtt: listener("e.g. 0.0.0.0"),
  https: listener("e.g. 0.0.0.0"),
  /** AMQP 1.0 over TLS (AMQP over WebSocket is on the HTTPS listener). */
  amqp: listener("e.g. 0.0.0.0"),
  /** Plain MQTT, always bound to loopback. */
  plain: table({ enabled: bool, port: listenPort }),
  max_message_bytes: intRange(1024, 16 * 1024 * 1024),
  max_connections: intRange(1, 1_000_000),
  /** Topic filters one client may hold. */
  max_subscriptions: intRange(1, 10_000),
  /** Time a new connection has to send CONNECT. */
  connect_timeout_seconds: intRange(1, 3600),
  /** QoS 1 messages sent to one client and not yet acknowledged. */
  max_inflight: intRange(1, 65535),
  /** Failed CONNECTs allowed per source address per minute; more are refused unchecked. */
  auth_failures_per_minute: intRange(1, 1_000_000),
  store: table({
    /** Upper bound of the durable store per endpoint queue. */
    max_size_bytes: intRange(1024 * 1024, Number.MAX_SAFE_INTEGER),
    /** Default message TTL when neither the route nor the deployment sets one; <0 is forever. */
    time_to_live_secs: z.number({ error: "expected an integer" }).int({
      error: "expected an integer",
    }),
    /** Free space the store keeps on its file system; below it new messages are refused. */
    min_free_bytes: intRange(1024 * 1024, Number.MAX_SAFE_INTEGER),
  }),
});

/** `[agent]`: runs the modules of the deployment. */
export const AgentConfig = table({
  /** Container engine: `auto` finds Podman or Docker; `none` runs only process modules. */
  engine: z.enum(["auto", "docker", "none"], { error: 'expected one of "auto", "docker", "none"' }),
  /** Engine API socket; empty means DOCKER_HOST, /run/podman/podman.sock, /var/run/docker.sock. */
  engine_socket: path,
  /** Network modules join; the hub's hostname resolves on it. */
  network: z.string({ error: "expected a network name" }),
  backoff_base_seconds: intRange(1, 3600),
  backoff_max_seconds: intRange(1, 86400),
  /** A module that runs this long has its restart count reset. */
  backoff_reset_seconds: intRange(1, 86400),
  /**
   * A new deployment that has not had every module running (and healthy, where it declares a
   * health check) for this long is rolled back to the last one that had; 0 never rolls back.
   */
  rollback_after_seconds: intRange(0, 86400),
  /** createOptions the device allows; the manifest cannot change this list. */
  allow: table({
    privileged: bool,
    cap_add: stringList,
    /** Host paths (after resolving symlinks) modules may bind; never the state dir or an engine socket. */
    host_paths: stringList,
    /** Host devices (HostConfig.Devices PathOnHost, after resolving symlinks). */
    devices: z.array(z.string({ error: "expected a string" }), {
      error: 'expected an array of device paths, e.g. ["/dev/ttyUSB0"]',
    }),
    /** HostConfig.DeviceCgroupRules, each exactly as written, e.g. "c 188:* rmw". */
    device_cgroup_rules: stringList,
    /** HostConfig.DeviceRequests (GPUs). */
    gpus: bool,
    host_network: bool,
    host_pid: bool,
    host_ipc: bool,
    host_uts: bool,
    host_userns: bool,
    host_cgroupns: bool,
    /** container:<name> modes, VolumesFrom, Links, Cgroup: another container's namespaces or data. */
    join_containers: bool,
    /** SecurityOpt beyond no-new-privileges (seccomp, AppArmor, SELinux), MaskedPaths, ReadonlyPaths. */
    unconfined_security: bool,
    sysctls: bool,
    cgroup_parent: bool,
    /** OomKillDisable, and a negative OomScoreAdj. */
    oom_kill_disable: bool,
    ulimits: bool,
    /** OCI runtimes HostConfig.Runtime may name, e.g. ["nvidia"]. */
    runtimes: stringList,
    /** Whether a deployment from the upstream parent may run process modules (host commands). */
    process_modules_from_upstream: bool,
  }),
});

/** `[metrics]`: Prometheus text at `http://<listen>/metrics`. */
export const MetricsConfig = table({
  enabled: bool,
  listen: z.string({ error: "expected host:port" }).regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, {
    error: "expected host:port, e.g. 127.0.0.1:9600",
  }),
});

/** `[console]`: the local web console (`ledge console` prints a one-time login link). */
export const ConsoleConfig = table({
  enabled: bool,
  listen: z.string({ error: "expected host:port" }).regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, {
    error: "expected host:port, e.g. 127.0.0.1:9601",
  }),
  /** HTTPS with the server certificate of ledge's CA; required to listen beyond loopback. */
  tls: bool,
});

/** `[upstream]`: the parent this device forwards to. */
export const UpstreamConfig = table({
  enabled: bool,
  hostname: z.string({ error: "expected a host name" }),
  port,
  protocol: z.enum(["mqtts", "wss"], { error: 'expected one of "mqtts", "wss"' }),
  /** PEM bundle that the parent's server certificate must chain to. */
  ca_file: path,
  /** SAS key of this device on the parent (base64), or empty with cert_file/key_file. */
  shared_access_key: z.string({ error: "expected a base64 string" }),
  cert_file: path,
  key_file: path,
  /** Enrollment group this device registers through on its first connect (zero-touch). */
  enrollment_group: z.string({ error: "expected an enrollment group name" }),
  /**
   * The group's key (base64): with it, and no shared_access_key, this device's key is
   * base64(HMAC-SHA256(group key, device id)), as DPS symmetric-key group enrollment derives it.
   */
  enrollment_key: z.string({ error: "expected a base64 string" }),
  /** Telemetry publishes awaiting the parent's PUBACK at once (the forwarding window). */
  max_inflight: intRange(1, 65535),
  /** Cap of the reconnect back-off (base 1 s, doubling, with jitter). */
  reconnect_max_seconds: intRange(1, 3600),
  /** A module's own connection to the parent closes after this long without traffic. */
  idle_timeout_seconds: intRange(1, 86400),
  /** Largest message the parent accepts (IoT Hub: 262144); larger ones are dead-lettered. */
  max_message_bytes: intRange(1024, 16 * 1024 * 1024),
  /** Lifetime of the SAS tokens sent to the parent; connections renew them at 3/4. */
  token_lifetime_seconds: intRange(60, 86400),
  /** The parent's HTTPS listener (its hub's `[hub.https]` port): self-update downloads. */
  https_port: port,
});

/** `[update]`: self-update of ledge's executable (from the parent, or `ledge update <file>`). */
export const UpdateConfig = table({
  /**
   * Public keys (PEM, SPKI; ECDSA P-256 or Ed25519) whose signature an update must carry: the
   * PEM text itself, or the path of a file holding it. None: every update is refused.
   */
  trusted_keys: stringList,
  /** A new version must be ready (and connected to the parent, if any) this soon, or it is rolled back. */
  confirm_seconds: intRange(10, 86400),
});

/** The whole configuration file. */
export const Config = table({
  device: DeviceConfig,
  state: StateConfig,
  log: LogConfig,
  security: SecurityConfig,
  hub: HubConfig,
  agent: AgentConfig,
  metrics: MetricsConfig,
  console: ConsoleConfig,
  upstream: UpstreamConfig,
  update: UpdateConfig,
});
/** The whole configuration, validated, with every default filled in. */
export type Config = z.infer<typeof Config>;

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
