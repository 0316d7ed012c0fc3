/**
 * The commented config file `ledge init` writes: every key, its default, and what it does.
 */
import { stringify } from "smol-toml";
import type { Config } from "./config.ts";

/** One comment per key path; the template test fails when a key of the schema has none. */
export const CONFIG_COMMENTS: Record<string, string> = {
  "device": "Who this edge device is.",
  "device.id": "Device id: in SAS token audiences, in SPIFFE ids and on the upstream parent.",
  "device.hostname":
    "Host name modules and leaf devices connect to; on the hub's TLS certificate\n(IOTEDGE_GATEWAYHOSTNAME).",
  "device.iothub_hostname":
    "IoT Hub host name modules put in their SAS token audience (IOTEDGE_IOTHUBHOSTNAME).",
  "state": "Where ledge keeps its CA, identities, queues, twins, last deployment and sockets.",
  "state.dir":
    "State directory (created 0700). Defaults: /var/lib/ledge for root, else\n$XDG_DATA_HOME/ledge or ~/.local/share/ledge; the LEDGE_HOME variable overrides.",
  "log": "Logging (always to stderr).",
  "log.level": 'One of "debug", "info", "warn", "error".',
  "log.format": '"pretty" for people, "json" for collectors, "auto": pretty on a terminal.',
  "security": "The local CA and workload identities.",
  "security.trust_domain":
    "SPIFFE trust domain: module ids are spiffe://<this>/ledge/<device>/<module>.",
  "security.leaf_lifetime_seconds":
    "Lifetime of leaf certificates (module SVIDs, server certificates); renewed at ~2/3.",
  "security.edge_ca_lifetime_days": "Lifetime of the issuing edge CA; renewed with overlap.",
  "security.root_ca_lifetime_days": "Lifetime of the generated root CA.",
  "security.max_sas_token_lifetime_seconds":
    "SAS tokens (MQTT, AMQP, HTTPS) that expire further away than this are refused.",
  "security.edge_ca_cert":
    "Bring your own CA: PEM of the issuing CA certificate (and its chain). Empty: generate one.",
  "security.edge_ca_key": "Bring your own CA: PEM private key of edge_ca_cert.",
  "security.trust_bundle": "Bring your own CA: PEM trust anchor(s); empty: the chain's last cert.",
  "hub": "The local IoT Hub-compatible broker.",
  "hub.mqtt": "MQTT over TLS (IoT Edge uses 8883).",
  "hub.mqtt.enabled": "Serve MQTT over TLS.",
  "hub.mqtt.bind": "Address to listen on.",
  "hub.mqtt.port":
    "Port (defaults: 8883 for root, 18883 otherwise; 0: any free port, reported at start).",
  "hub.https":
    "HTTPS: MQTT and AMQP over WebSocket at /$iothub/websocket, the device API and the module methods API.",
  "hub.https.enabled": "Serve HTTPS.",
  "hub.https.bind": "Address to listen on.",
  "hub.https.port": "Port (defaults: 443 for root, 18443 otherwise; 0: any free port).",
  "hub.amqp": "AMQP 1.0 over TLS (IoT Edge uses 5671).",
  "hub.amqp.enabled": "Serve AMQP over TLS.",
  "hub.amqp.bind": "Address to listen on.",
  "hub.amqp.port": "Port (defaults: 5671 for root, 15671 otherwise; 0: any free port).",
  "hub.plain": "Plain MQTT without TLS, bound to loopback only; for local tools.",
  "hub.plain.enabled": "Serve plain MQTT on 127.0.0.1.",
  "hub.plain.port": "Port (defaults: 1883 for root, 11883 otherwise; 0: any free port).",
  "hub.max_message_bytes": "Largest message accepted (IoT Hub: 262144).",
  "hub.max_connections": "Most clients connected at once.",
  "hub.max_subscriptions": "Most topic filters one client may subscribe to.",
  "hub.connect_timeout_seconds": "A connection that sends no CONNECT within this time is closed.",
  "hub.max_inflight": "QoS 1 messages sent to one client and not yet acknowledged.",
  "hub.auth_failures_per_minute":
    "Failed connects allowed per minute to one identity from one address; beyond it, that identity's connects from there are refused (the address as a whole: 10 times this).",
  "hub.store": "Durable message store (one queue per endpoint).",
  "hub.store.max_size_bytes": "Bound of each endpoint queue; when full, new messages are refused.",
  "hub.store.time_to_live_secs":
    "Default message TTL when the route and deployment set none; below 0 means forever.",
  "hub.store.min_free_bytes":
    "Free disk space the store keeps for acks and checkpoints; below it, new messages are refused.",
  "agent": "Runs the deployment's modules.",
  "agent.engine":
    '"auto" finds Podman or Docker; "docker" requires one; "none": process modules only.',
  "agent.engine_socket":
    "Engine API socket; empty: DOCKER_HOST, /run/podman/podman.sock, /var/run/docker.sock.",
  "agent.network": "Container network modules join; the hub's host name resolves on it.",
  "agent.backoff_base_seconds": "Restart back-off: base * 2^restarts ...",
  "agent.backoff_max_seconds":
    "... capped here; ledge keeps retrying at the cap, it never gives up.",
  "agent.backoff_reset_seconds": "A module that runs this long has its restart count reset.",
  "agent.rollback_after_seconds":
    "A new deployment not running (and healthy) in full this long is rolled back to the last good one; 0: never.",
  "agent.allow":
    "What a module's createOptions may ask of the engine beyond an ordinary container. Denied by\ndefault; a manifest cannot change this list. A denied module reports failed, naming the field\nand the key here that would allow it.",
  "agent.allow.privileged": "HostConfig.Privileged.",
  "agent.allow.cap_add": 'Capabilities HostConfig.CapAdd may add, e.g. ["NET_ADMIN"]; "ALL": any.',
  "agent.allow.host_paths":
    'Host paths (and what is under them) modules may bind (Binds, Mounts of type bind), e.g.\n["/srv/opcpublisher"]. Compared after resolving symlinks when the container is created; ledge\'s\nstate dir, the engine sockets and their parents are never bound. Named volumes need nothing.',
  "agent.allow.devices":
    'Host devices HostConfig.Devices may name (after resolving symlinks), e.g. ["/dev/ttyUSB0"].',
  "agent.allow.device_cgroup_rules":
    'HostConfig.DeviceCgroupRules allowed, exactly as written, e.g. ["c 188:* rmw"].',
  "agent.allow.gpus": "HostConfig.DeviceRequests (GPUs for local inference).",
  "agent.allow.host_network": 'NetworkMode "host".',
  "agent.allow.host_pid": 'PidMode "host".',
  "agent.allow.host_ipc": 'IpcMode "host".',
  "agent.allow.host_uts": 'UTSMode "host".',
  "agent.allow.host_userns": 'UsernsMode "host".',
  "agent.allow.host_cgroupns": 'CgroupnsMode "host".',
  "agent.allow.join_containers":
    'Another container\'s namespaces or data: "container:<name>" modes, VolumesFrom, Links, Cgroup.',
  "agent.allow.unconfined_security":
    "SecurityOpt beyond no-new-privileges (seccomp, AppArmor, SELinux profiles, unconfined or\nnot), MaskedPaths, ReadonlyPaths.",
  "agent.allow.sysctls": "HostConfig.Sysctls.",
  "agent.allow.cgroup_parent": "HostConfig.CgroupParent.",
  "agent.allow.oom_kill_disable": "HostConfig.OomKillDisable, and a negative OomScoreAdj.",
  "agent.allow.ulimits": "HostConfig.Ulimits.",
  "agent.allow.runtimes": 'OCI runtimes HostConfig.Runtime may name, e.g. ["nvidia"].',
  "agent.allow.process_modules_from_upstream":
    "Let deployments from the upstream parent run process modules (host commands); local ledge deploy is not affected.",
  "metrics": "Prometheus metrics at http://<listen>/metrics.",
  "metrics.enabled": "Serve metrics.",
  "metrics.listen": "host:port to listen on (port 0: any free port, reported at start).",
  "console":
    "The local web console: `ledge console` prints a one-time login link. Costs nothing while\nnobody looks (loaded on the first request).",
  "console.enabled": "Serve the console.",
  "console.listen":
    "host:port to listen on. Beyond loopback (e.g. 0.0.0.0:9601) it needs tls = true.",
  "console.tls":
    "HTTPS with the hub's server certificate from ledge's CA (browsers must trust\n<state>/pki/root_ca.pem).",
  "upstream": "The parent this device forwards to (another ledge, or an IoT Hub).",
  "upstream.enabled": "Connect to a parent.",
  "upstream.hostname": "Parent host name.",
  "upstream.port": "Parent port (8883 for mqtts, 443 for wss).",
  "upstream.protocol": '"mqtts" or "wss".',
  "upstream.ca_file": "PEM bundle the parent's certificate must chain to.",
  "upstream.shared_access_key": "This device's SAS key on the parent (base64); or use cert_file.",
  "upstream.cert_file": "X.509 client certificate (PEM) of this device on the parent.",
  "upstream.key_file": "Its private key (PEM).",
  "upstream.enrollment_group":
    "Enrollment group at the parent this device registers through (zero-touch).",
  "upstream.enrollment_key":
    "That group's key (base64); the device key is derived from it and the device id. Leave shared_access_key empty.",
  "upstream.max_inflight": "Messages forwarded at once, each awaiting the parent's PUBACK.",
  "upstream.reconnect_max_seconds": "Reconnect back-off cap (from 1 s, doubling, with jitter).",
  "upstream.idle_timeout_seconds":
    "A module's own connection to the parent closes when idle this long.",
  "upstream.max_message_bytes":
    "Largest message the parent accepts (IoT Hub: 262144); larger ones are dead-lettered.",
  "upstream.token_lifetime_seconds": "Lifetime of SAS tokens sent upstream; renewed at 3/4.",
  "upstream.https_port":
    "The parent's HTTPS port (its [hub.https] port), where this device downloads updates.",
  "update":
    "Self-update of this executable: from the parent (runtime.settings.ledgeVersion of the\n$edgeAgent desired properties) or `ledge update <file>`. See README, Updating ledge.",
  "update.trusted_keys":
    "Public keys (PEM text, or paths of PEM files; ECDSA P-256 or Ed25519) an update must be\nsigned by (`ledge update keygen`, `ledge update sign`). Empty: updates are refused.",
  "update.confirm_seconds":
    "A new version must be ready, and connected to the parent if there is one, within this\nmany seconds; otherwise the previous executable is put back and started.",
};

function comment(path: string): string {
  const text = CONFIG_COMMENTS[path] ?? "";
  return text.split("\n").map((line) => `# ${line}`).join("\n");
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function renderValue(value: unknown): string {
  // smol-toml renders one key; take its right-hand side so quoting is TOML's own.
  const line = stringify({ v: value }).trim();
  return line.slice(line.indexOf("=") + 1).trim();
}

function renderTable(path: string, table: Record<string, unknown>, out: string[]): void {
  const scalars = Object.entries(table).filter(([, value]) => !isTable(value));
  const tables = Object.entries(table).filter(([, value]) => isTable(value));
  if (path !== "") out.push("", comment(path), `[${path}]`);
  for (const [key, value] of scalars) {
    const full = path ? `${path}.${key}` : key;
    out.push(comment(full), `${key} = ${renderValue(value)}`);
  }
  for (const [key, value] of tables) {
    renderTable(path ? `${path}.${key}` : key, value as Record<string, unknown>, out);
  }
}

/** Renders `config` as a commented TOML file with every key. */
export function renderConfigTemplate(config: Config): string {
  const out = [
    "# ledge configuration. Every key is shown with its default; delete what you do not change.",
    "# Reference: README.md, section Configuration.",
  ];
  renderTable("", config as unknown as Record<string, unknown>, out);
  return out.join("\n") + "\n";
}
