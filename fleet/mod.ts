/**
 * The fleet, at a parent: its children (and everything below them) managed the way IoT Hub
 * manages devices, with no cloud vendor in the loop.
 *
 * - **Tags** on device twins, kept here only (the device never sees them), merged by JSON patch.
 * - **Queries** in IoT Hub's query language over the device and module twins of this parent and
 *   below (`SELECT ... FROM devices|devices.modules WHERE ... GROUP BY ...`), paged by continuation
 *   token; errors name line and column, as the route language's do (they share its lexer).
 * - **Automatic and layered deployments** by target condition and priority, re-evaluated
 *   whenever tags, deployments or the fleet change; IoT Hub's system metrics and custom metric
 *   queries, each with the device ids behind it.
 * - **Staged rollouts** in waves with an abort threshold; an abort returns the released devices
 *   to what they ran before.
 * - **Zero-touch enrollment**: groups whose key lets a device derive its own key (DPS's
 *   symmetric-key group enrollment) and register on its first connect with the group's tags.
 *
 * @example
 * ```ts
 * const fleet = createFleetComponent(context, { hub: () => hub.hub, security: security.manager });
 * await fleet.start(signal); // after the hub
 * fleet.service.query("SELECT deviceId FROM devices WHERE tags.env = 'prod'", {});
 * ```
 *
 * @module
 */
export {
  createFleetComponent,
  type FleetComponent,
  type FleetComponentOptions,
  type FleetSecurity,
} from "./fleet_component.ts";
export type { FleetService } from "./fleet_service.ts";
export type { DeploymentView, DeviceOutcome } from "./deployment_view.ts";
export { DeploymentRequest, DeploymentUpdate, RolloutSpec } from "./deployment_config.ts";
export { EnrollmentRequest } from "./enrollment_store.ts";
export { type FleetApi, QueryRequest, TagsPatch } from "./fleet_api.ts";
export { parseCondition, parseQuery } from "./query_parser.ts";
export { QuerySyntaxError } from "./query_syntax_error.ts";
export { type QueryPage, runQuery } from "./query_run.ts";
export { twinContentPatches } from "./twin_content.ts";
