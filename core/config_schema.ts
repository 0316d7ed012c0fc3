/**
 * The schema of the config file ({@linkcode configSchema}) and the {@linkcode Config} it parses
 * to: one function per `[section]`, all built at each call (see {@linkcode configSchema}).
 */
import { z } from "zod";

function intRange(min: number, max: number) {
  const error = `expected an integer ${min}\u2013${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function table<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape, { error: "expected a table" });
}

/** A port to listen on: 0 takes any free one (the bound port is reported at start). */
function listenPort() {
  const error = "expected an integer 0\u201365535 (0: any free port)";
  return z.number({ error }).int({ error }).min(0, { error }).max(65535, { error });
}

/** A `host:port` (an IPv6 host in brackets) to listen on; `example` goes into the error. */
function hostPort(example: string) {
  return z.string({ error: "expected host:port" }).regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, {
    error: `expected host:port, e.g. ${example}`,
  });
}

/** The value schemas the sections share, built with them. */
function valueSchemas() {
  return {
    port: intRange(1, 65535),
    listenPort: listenPort(),
    nonEmpty: z.string({ error: "expected a string" }).min(1, {
      error: "expected a non-empty string",
    }),
    bool: z.boolean({ error: "expected true or false" }),
    path: z.string({ error: "expected a path" }),
    stringList: z.array(z.string({ error: "expected a string" }), {
      error: "expected an array of strings",
    }),
    /** A device or module id as IoT Hub accepts it. */
    identityId: z.string({ error: "expected a string" }).regex(
      /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/,
      {
        error: "expected 1\u2013128 characters of A-Z a-z 0-9 - . % _ * ? ! ( ) , : = @ $ '",
      },
    ),
    hostname: z.string({ error: "expected a host name" }).regex(
      /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/,
      {
        error: "expected a DNS host name",
      },
    ),
    trustDomain: z.string({ error: "expected a string" }).regex(/^[a-z0-9._-]{1,255}$/, {
      error: "expected a SPIFFE trust domain: lowercase a-z 0-9 . _ -",
    }),
  };
}

type Values = ReturnType<typeof valueSchemas>;

/** `[device]`: who this edge device is. */
function deviceConfig(v: Values) {
  return table({
    /** Device id on this hub, in SAS audiences and upstream. */
    id: v.identityId,
    /** Name modules and leaf devices connect to; on the hub's TLS certificate. */
    hostname: v.hostname,
    /** IoT Hub host name modules put in SAS audiences (IOTEDGE_IOTHUBHOSTNAME). */
    iothub_hostname: v.hostname,
  });
}

/** `[state]`: where ledge keeps its CA, identities, queues, twins and sockets. */
function stateConfig(v: Values) {
  return table({ dir: v.nonEmpty });
}

/** `[log]`. */
function logConfig() {
  return table({
    level: z.enum(["debug", "info", "warn", "error"], {
      error: 'expected one of "debug", "info", "warn", "error"',
    }),
    format: z.enum(["auto", "pretty", "json"], {
      error: 'expected one of "auto", "pretty", "json"',
    }),
  });
}

/** `[security]`: the local CA and workload identities. */
function securityConfig(v: Values) {
  return table({
    trust_domain: v.trustDomain,
    /** Lifetime of leaf certificates (module SVIDs, server certificates): 60 s to 30 days. */
    leaf_lifetime_seconds: intRange(60, 30 * 86400),
    /** Lifetime of the issuing edge CA: 1 to 3650 days. */
    edge_ca_lifetime_days: intRange(1, 3650),
    /** Lifetime of the root CA: 1 to 36500 days. */
    root_ca_lifetime_days: intRange(1, 36500),
    /** SAS tokens expiring further away than this are refused: 60 s to 10 years. */
    max_sas_token_lifetime_seconds: intRange(60, 10 * 365 * 86400),
    /** Bring your own CA: PEM files of the issuing CA certificate (chain) and its key. */
    edge_ca_cert: v.path,
    edge_ca_key: v.path,
    /** Bring your own CA: the trust anchor (root) PEM; empty means the edge CA chain's last cert. */
    trust_bundle: v.path,
  });
}

function listener(v: Values, defaultPortNote: string) {
  return table({
    enabled: v.bool,
    bind: z.string({ error: `expected an address to bind, ${defaultPortNote}` }),
    port: v.listenPort,
  });
}

/** `[hub]`: the local broker. */
function hubConfig(v: Values) {
  return table({
    mqtt: listener(v, "e.g. 0.0.0.0"),
    https: listener(v, "e.g. 0.0.0.0"),
    /** AMQP 1.0 over TLS (AMQP over WebSocket is on the HTTPS listener). */
    amqp: listener(v, "e.g. 0.0.0.0"),
    /** Plain MQTT, always bound to loopback. */
    plain: table({ enabled: v.bool, port: v.listenPort }),
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
}

/** `[agent]`: runs the modules of the deployment. */
function agentConfig(v: Values) {
  return table({
    /** Container engine: `auto` finds Podman or Docker; `none` runs only process modules. */
    engine: z.enum(["auto", "docker", "none"], {
      error: 'expected one of "auto", "docker", "none"',
    }),
    /** Engine API socket; empty means DOCKER_HOST, /run/podman/podman.sock, /var/run/docker.sock. */
    engine_socket: v.path,
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
      privileged: v.bool,
      cap_add: v.stringList,
      /** Host paths (after resolving symlinks) modules may bind; never the state dir or an engine socket. */
      host_paths: v.stringList,
      /** Host devices (HostConfig.Devices PathOnHost, after resolving symlinks). */
      devices: z.array(z.string({ error: "expected a string" }), {
        error: 'expected an array of device paths, e.g. ["/dev/ttyUSB0"]',
      }),
      /** HostConfig.DeviceCgroupRules, each exactly as written, e.g. "c 188:* rmw". */
      device_cgroup_rules: v.stringList,
      /** HostConfig.DeviceRequests (GPUs). */
      gpus: v.bool,
      host_network: v.bool,
      host_pid: v.bool,
      host_ipc: v.bool,
      host_uts: v.bool,
      host_userns: v.bool,
      host_cgroupns: v.bool,
      /** container:<name> modes, VolumesFrom, Links, Cgroup: another container's namespaces or data. */
      join_containers: v.bool,
      /** SecurityOpt beyond no-new-privileges (seccomp, AppArmor, SELinux), MaskedPaths, ReadonlyPaths. */
      unconfined_security: v.bool,
      sysctls: v.bool,
      cgroup_parent: v.bool,
      /** OomKillDisable, and a negative OomScoreAdj. */
      oom_kill_disable: v.bool,
      ulimits: v.bool,
      /** OCI runtimes HostConfig.Runtime may name, e.g. ["nvidia"]. */
      runtimes: v.stringList,
      /** Whether a deployment from the upstream parent may run process modules (host commands). */
      process_modules_from_upstream: v.bool,
    }),
  });
}

/** `[metrics]`: Prometheus text at `http://<listen>/metrics`. */
function metricsConfig(v: Values) {
  return table({
    enabled: v.bool,
    listen: hostPort("127.0.0.1:9600"),
  });
}

/** `[console]`: the local web console (`ledge console` prints a one-time login link). */
function consoleConfig(v: Values) {
  return table({
    enabled: v.bool,
    listen: hostPort("127.0.0.1:9601"),
    /** HTTPS with the server certificate of ledge's CA; required to listen beyond loopback. */
    tls: v.bool,
  });
}

/** `[upstream]`: the parent this device forwards to. */
function upstreamConfig(v: Values) {
  return table({
    enabled: v.bool,
    hostname: z.string({ error: "expected a host name" }),
    port: v.port,
    protocol: z.enum(["mqtts", "wss"], { error: 'expected one of "mqtts", "wss"' }),
    /** PEM bundle that the parent's server certificate must chain to. */
    ca_file: v.path,
    /** SAS key of this device on the parent (base64), or empty with cert_file/key_file. */
    shared_access_key: z.string({ error: "expected a base64 string" }),
    cert_file: v.path,
    key_file: v.path,
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
    https_port: v.port,
  });
}

/** `[update]`: self-update of ledge's executable (from the parent, or `ledge update <file>`). */
function updateConfig(v: Values) {
  return table({
    /**
     * Public keys (PEM, SPKI; ECDSA P-256 or Ed25519) whose signature an update must carry: the
     * PEM text itself, or the path of a file holding it. None: every update is refused.
     */
    trusted_keys: v.stringList,
    /** A new version must be ready (and connected to the parent, if any) this soon, or it is rolled back. */
    confirm_seconds: intRange(10, 86400),
  });
}

/**
 * The schema of the whole configuration file, built at each call: the daemon parses its config
 * once, at start, and a schema kept for the life of the process held ~0.6 MB of V8 heap (~190
 * zod schemas; an integer range alone is ~7 KB) for nothing.
 */
export function configSchema() {
  const v = valueSchemas();
  return table({
    device: deviceConfig(v),
    state: stateConfig(v),
    log: logConfig(),
    security: securityConfig(v),
    hub: hubConfig(v),
    agent: agentConfig(v),
    metrics: metricsConfig(v),
    console: consoleConfig(v),
    upstream: upstreamConfig(v),
    update: updateConfig(v),
  });
}
/** The whole configuration, validated, with every default filled in. */
export type Config = z.infer<ReturnType<typeof configSchema>>;
