/**
 * The daemon: the composition root of ledge. It builds the components in start order (security,
 * hub, agent, upstream, metrics), prepares the state dir, starts them, serves the management API
 * (`<state>/mgmt.sock`, with the OpenAPI document merged from what each component documents), and
 * stops everything in reverse.
 *
 * @example
 * ```ts
 * const daemon = await startDaemon(context, buildComponents(context));
 * ```
 *
 * @module
 */
export { buildComponents } from "./components.ts";
export { startDaemon } from "./daemon.ts";
export { createMgmtApp, mgmtApiDocs, type SystemApi } from "./mgmt_server.ts";
export type { ConsoleApi } from "./console/mod.ts";
export { EXIT_RESTART, type UpdateStatus } from "./update/updater.ts";
export { DESCRIPTOR_HEADER, type UpdateApi } from "./update/update_component.ts";
export {
  type ArtifactDescriptor,
  generateSigningKey,
  importPublicKey,
  signArtifact,
} from "./update/signature.ts";
export { digestFile, readLauncherHeader } from "./update/artifact_file.ts";
