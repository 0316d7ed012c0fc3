/**
 * The fleet as a daemon component: opens its state (`<state>/fleet/`), runs the control loop,
 * hands the enrollment groups to the security manager, and serves the fleet's routes. Start it
 * after the hub (it reads and writes the hub's twins); it stops before it.
 *
 * @module
 */
import type { Component, RuntimeContext } from "../core/component.ts";
import type { Logger } from "../core/log.ts";
import { httpError } from "../core/api.ts";
import type { Identity } from "../security/mod.ts";
import type { EnrollmentSource, IdentityRegistry } from "../security/mod.ts";
import { DeploymentStore } from "./deployment_store.ts";
import { DeviceRecords } from "./device_records.ts";
import { EnrollmentStore } from "./enrollment_store.ts";
import { createFleetApi, FLEET_API_DOCS } from "./fleet_api.ts";
import { FleetController } from "./fleet_controller.ts";
import { FleetService, type ParentEndpoint } from "./fleet_service.ts";
import type { FleetHub } from "./twin_documents.ts";

/** The security manager as the fleet uses it. */
export interface FleetSecurity {
  readonly registry: IdentityRegistry;
  setEnrollments(source: EnrollmentSource | undefined): void;
}

/** Options of {@linkcode createFleetComponent}. */
export interface FleetComponentOptions {
  /** The running hub (throws before the hub starts). */
  hub: () => FleetHub;
  security: FleetSecurity;
  now?: () => number;
  /** Period of the background evaluation (default 5000 ms). */
  periodMs?: number;
  /** How a child reaches this ledge (for the `[upstream]` of devices enrolling). */
  parent?: () => ParentEndpoint;
}

/** The fleet component. */
export interface FleetComponent extends Component {
  /** The fleet's operations; throws before `start`. */
  readonly service: FleetService;
  /** The control loop; throws before `start`. */
  readonly controller: FleetController;
}

interface Running {
  controller: FleetController;
  service: FleetService;
  unsubscribe: (() => void)[];
}

/** Opens the fleet's state and starts its loop; what it hands back is stopped by the component. */
async function startFleet(
  context: RuntimeContext,
  options: FleetComponentOptions,
  logger: Logger,
  now: () => number,
): Promise<Running> {
  const dir = `${context.stateDir}/fleet`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const [records, deployments, enrollments] = await Promise.all([
    DeviceRecords.open(dir),
    DeploymentStore.open(dir),
    EnrollmentStore.open(dir),
  ]);
  const controller = new FleetController({
    hub: options.hub,
    identities: () => options.security.registry.list(),
    ownDeviceId: context.config.device.id,
    records,
    deployments,
    enrollments,
    logger,
    now,
    ...(options.periodMs === undefined ? {} : { periodMs: options.periodMs }),
  });
  const service = new FleetService({
    controller,
    records,
    deployments,
    enrollments,
    now,
    ...(options.parent === undefined ? {} : { parent: options.parent }),
  });
  options.security.setEnrollments({
    candidates: (deviceId) => enrollments.candidates(deviceId),
    registered(identity: Identity, group: string) {
      const tags = enrollments.get(group)?.tags ?? {};
      void Promise.all([
        records.enrolled(identity.deviceId, group, tags),
        enrollments.registered(group, new Date(now())),
      ]).then(() => controller.schedule()).catch((error) =>
        logger.error("cannot record an enrolled device", { device: identity.deviceId, error })
      );
    },
  });
  const hub = options.hub();
  const unsubscribe = [
    hub.onClientChange((identity, connected) => {
      if (connected && identity.moduleId === undefined) controller.schedule();
    }),
    hub.onReportedPatch((identity) => {
      if (identity.moduleId?.toLowerCase() !== "$edgeagent") return;
      const rolling = deployments.list().some((d) => d.rolloutState?.status === "rolling");
      if (rolling) controller.schedule(250);
    }),
  ];
  controller.start();
  logger.debug("fleet started", {
    deployments: deployments.list().length,
    enrollments: enrollments.list().length,
  });
  return { controller, service, unsubscribe };
}

/**
 * Creates the fleet component.
 *
 * @example
 * ```ts
 * const fleet = createFleetComponent(context, { hub: () => hub.hub, security: security.manager });
 * ```
 */
export function createFleetComponent(
  context: RuntimeContext,
  options: FleetComponentOptions,
): FleetComponent {
  const logger = context.logger.child("fleet");
  const now = options.now ?? Date.now;
  let running: Running | undefined;

  function require(): Running {
    if (!running) throw httpError(503, "Cannot use the fleet: it is not started");
    return running;
  }

  async function start(): Promise<void> {
    running = await startFleet(context, options, logger, now);
  }

  return {
    name: "fleet",
    api: createFleetApi(() => require().service),
    apiDocs: FLEET_API_DOCS,
    get service() {
      return require().service;
    },
    get controller() {
      return require().controller;
    },
    start,
    async stop() {
      const run = running;
      if (!run) return;
      running = undefined;
      options.security.setEnrollments(undefined);
      for (const off of run.unsubscribe) off();
      await run.controller.stop();
    },
  };
}
