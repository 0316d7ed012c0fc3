/**
 * A real hub for tests: the security component and the hub component on a temp state dir,
 * listening on ports the system gives (port 0, read back from the hub), with helpers for the env the agent gives a module.
 */
import { createHubComponent, type HubComponent } from "../hub/mod.ts";
import { parseConfigText } from "../core/config_load.ts";
import type { Config } from "../core/config.ts";
import { createLogger, silentLogger } from "../core/log.ts";
import { createSecurityComponent, type SecurityComponentWithControl } from "../security/mod.ts";
import { connectIdentity, type MqttClient } from "./_hub_mqtt.ts";
import { sasToken } from "./_hub_sas.ts";

/** A running hub with its security component. */
export interface HubFixture {
  config: Config;
  stateDir: string;
  security: SecurityComponentWithControl;
  hub: HubComponent;
  ports: { mqtts: number; https: number; amqps: number; plain: number };
  /** PEM file of the trust bundle. */
  caFile: string;
  /** The IOTEDGE_* env of a provisioned module, plus the port mapping for tests/sdk scripts. */
  moduleEnv(moduleId: string): Promise<Record<string, string>>;
  /** Provisions `moduleId` and connects it over MQTT/TLS with the `mqtt` npm client (SAS). */
  connectModule(moduleId: string): Promise<MqttClient>;
  /** Gives the hub `routes` (name to route) as a deployment's `$edgeHub` would, no module twins. */
  applyRoutes(routes: Record<string, string>, schemaVersion?: string): void;
  stop(): Promise<void>;
}

/** Starts a hub; `toml` is appended to the generated config. */
export async function startHubFixture(
  toml = "",
  options: { purgeIntervalMs?: number } = {},
): Promise<HubFixture> {
  const stateDir = await Deno.makeTempDir({ prefix: "ledge-hub-" });
  const config = parseConfigText(
    `[device]\nid = "edge1"\nhostname = "localhost"\niothub_hostname = "hub.example"\n` +
      `[state]\ndir = "${stateDir}"\n[security]\nleaf_lifetime_seconds = 3600\n` +
      `[hub.mqtt]\nbind = "127.0.0.1"\nport = 0\n` +
      `[hub.https]\nbind = "127.0.0.1"\nport = 0\n` +
      `[hub.amqp]\nbind = "127.0.0.1"\nport = 0\n` +
      `[hub.plain]\nenabled = true\nport = 0\n` + toml,
    { uid: 1000, hostname: "test", env: {} },
  );
  const logger = Deno.env.get("LEDGE_TEST_LOG") ? createLogger({ level: "debug" }) : silentLogger;
  const context = { config, stateDir, logger };
  const security = createSecurityComponent(context);
  const signal = new AbortController().signal;
  await security.start(signal);
  const hub = createHubComponent(context, { security: security.manager, ...options });
  try {
    await hub.start(signal);
  } catch (error) {
    await security.stop();
    throw error;
  }
  const bound = hub.listeners();
  const ports = {
    mqtts: bound.mqtts!,
    https: bound.https!,
    amqps: bound.amqps!,
    plain: bound.plain!,
  };
  const caFile = `${stateDir}/test-ca.pem`;
  await Deno.writeTextFile(caFile, security.manager.trustBundlePem());
  return {
    config,
    stateDir,
    security,
    hub,
    ports,
    caFile,
    async moduleEnv(moduleId) {
      const { generationId, socketDir } = await security.manager.provisionModule(moduleId);
      return {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        IOTEDGE_WORKLOADURI: `unix://${socketDir}/workload.sock`,
        IOTEDGE_AUTHSCHEME: "sasToken",
        IOTEDGE_MODULEGENERATIONID: generationId,
        IOTEDGE_IOTHUBHOSTNAME: config.device.iothub_hostname,
        IOTEDGE_DEVICEID: config.device.id,
        IOTEDGE_MODULEID: moduleId,
        IOTEDGE_GATEWAYHOSTNAME: "localhost",
        IOTEDGE_APIVERSION: "2019-01-30",
        LEDGE_TEST_MQTT_PORT: String(ports.mqtts),
        LEDGE_TEST_HTTPS_PORT: String(ports.https),
        LEDGE_TEST_AMQP_PORT: String(ports.amqps),
      };
    },
    applyRoutes(routes, schemaVersion = "1.1") {
      hub.hub.applyDesired({ edgeHub: { schemaVersion, routes }, moduleTwins: {} });
    },
    async connectModule(moduleId) {
      await security.manager.provisionModule(moduleId);
      const identity = security.manager.registry.get(config.device.id, moduleId);
      if (!identity || identity.auth.type !== "sas") {
        throw new Error(`Cannot connect ${moduleId}: it has no SAS key`);
      }
      const host = config.device.iothub_hostname;
      return await connectIdentity({
        port: ports.mqtts,
        caPem: security.manager.trustBundlePem(),
        iothubHostname: host,
        deviceId: config.device.id,
        moduleId,
        credentials: {
          kind: "sas",
          token: sasToken({
            host,
            deviceId: config.device.id,
            moduleId,
            key: identity.auth.primaryKey,
          }),
        },
      });
    },
    async stop() {
      await hub.stop();
      await security.stop();
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    },
  };
}
