/**
 * The environment every module gets: the deployment's `env`, then the variables IoT Edge's
 * agent injects (which a manifest cannot override, so a module cannot claim another's id).
 */
import type { DesiredModule } from "./deployment.ts";
import type { ModuleProvision } from "./provisioner.ts";
import { CONTAINER_SOCKET_DIR } from "./engine/container_body.ts";

/** The workload API version IoT Edge's agent announces in IOTEDGE_APIVERSION. */
export const WORKLOAD_API_VERSION = "2019-01-30";

/** Device facts the variables carry (from `[device]`). */
export interface DeviceIdentity {
  deviceId: string;
  /** IOTEDGE_IOTHUBHOSTNAME: the hub name in SAS audiences. */
  iothubHostname: string;
  /** IOTEDGE_GATEWAYHOSTNAME: the name on the hub's TLS certificate. */
  gatewayHostname: string;
}

/**
 * The module's environment. Containers see their socket dir at `/var/run/iotedge`; process
 * modules get the host paths.
 */
export function buildModuleEnv(
  module: DesiredModule,
  context: { provision: ModuleProvision; device: DeviceIdentity },
): Record<string, string> {
  const dir = module.type === "process"
    ? context.provision.socketDir.replace(/\/+$/, "")
    : CONTAINER_SOCKET_DIR;
  return {
    ...module.env,
    IOTEDGE_WORKLOADURI: `unix://${dir}/workload.sock`,
    IOTEDGE_AUTHSCHEME: "sasToken",
    IOTEDGE_MODULEGENERATIONID: context.provision.generationId,
    IOTEDGE_IOTHUBHOSTNAME: context.device.iothubHostname,
    IOTEDGE_DEVICEID: context.device.deviceId,
    IOTEDGE_MODULEID: module.name,
    IOTEDGE_GATEWAYHOSTNAME: context.device.gatewayHostname,
    IOTEDGE_APIVERSION: WORKLOAD_API_VERSION,
    SPIFFE_ENDPOINT_SOCKET: `unix://${dir}/spiffe.sock`,
  };
}
