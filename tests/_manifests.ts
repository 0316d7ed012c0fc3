/**
 * Deployment manifests for tests and benches, in the IoT Edge `modulesContent` shape, built from
 * just what differs: the modules, the routes and the modules' desired twins.
 */

/** A module as `$edgeAgent` desired lists it (`type`, `settings`, and any other field). */
export type ManifestModule = Record<string, unknown> & { settings: Record<string, unknown> };

/** A whole deployment manifest with `modules`, `routes` and optional module twins. */
export function deploymentManifest(
  modules: Record<string, ManifestModule>,
  options: {
    routes?: Record<string, unknown>;
    twins?: Record<string, Record<string, unknown>>;
    /** `$edgeHub` → `storeAndForwardConfiguration`. */
    storeAndForward?: { timeToLiveSecs?: number; storeLimits?: { maxSizeBytes?: number } };
  } = {},
): { modulesContent: Record<string, unknown> } {
  return {
    modulesContent: {
      $edgeAgent: {
        "properties.desired": {
          schemaVersion: "1.1",
          runtime: { type: "docker", settings: {} },
          systemModules: {},
          modules,
        },
      },
      $edgeHub: {
        "properties.desired": {
          schemaVersion: "1.1",
          routes: options.routes ?? {},
          ...(options.storeAndForward
            ? { storeAndForwardConfiguration: options.storeAndForward }
            : {}),
        },
      },
      ...Object.fromEntries(
        Object.entries(options.twins ?? {}).map((
          [name, desired],
        ) => [name, { "properties.desired": desired }]),
      ),
    },
  };
}

/** A process module that runs `script` with /bin/sh, always restarted. */
export function shellModule(script: string, fields: Record<string, unknown> = {}): ManifestModule {
  return {
    type: "process",
    status: "running",
    restartPolicy: "always",
    ...fields,
    settings: { command: "/bin/sh", args: ["-c", script] },
  };
}
