/**
 * Self-update as a daemon component: the device side (the {@linkcode Updater}, fed by each
 * accepted deployment's `runtime.settings.ledgeVersion`, its status in the `$edgeAgent` reported
 * properties under `ledge`) and the parent side (the artifact store, published through the
 * management API and served to the devices below on the hub's HTTPS listener).
 *
 * Management routes: `GET /v1/update` (status), `POST /v1/update` (install a local file: the
 * body is the file, the `x-ledge-descriptor` header its signed descriptor, base64 JSON),
 * `PUT /v1/artifacts` (publish, same shape), `GET /v1/artifacts` (what is published here).
 */
import { Hono } from "hono";
import { type Agent, type EdgeAgentReported, ReportedFit } from "../../agent/mod.ts";
import type { Logger } from "../../core/log.ts";
import { type ApiDocs, httpError } from "../../core/api.ts";
import type { Component, RuntimeContext } from "../../core/component.ts";
import { ArtifactMismatchError, type ArtifactStore } from "./artifact_store.ts";
import { UpdateRefusedError } from "./install.ts";
import { ArtifactDescriptor } from "./signature.ts";
import { Updater, type UpdateStatus } from "./updater.ts";

/** The header carrying a file's signed descriptor (base64 of its JSON). */
export const DESCRIPTOR_HEADER = "x-ledge-descriptor";

/** The update component. */
export interface UpdateComponent extends Component {
  readonly updater: Updater;
  /** The agent as the upstream link and the hub see it: `$edgeAgent` reported with `ledge`. */
  readonly agent: Agent;
}

/** Options of {@linkcode createUpdateComponent}. */
export interface UpdateComponentOptions {
  agent: Agent;
  store: ArtifactStore;
  /** Whether this device's connection to its parent is up. */
  upstreamConnected(): boolean;
  /** Stops the daemon and exits with `code` (75: start again, as the new version). */
  exit(code: number, reason: string): void;
  /** Called once this version is known to stay (no trial at start, or the trial confirmed). */
  committed?(): void;
}

/** `$edgeAgent` reported properties with the running version and the last update. */
export type ReportedWithUpdate = EdgeAgentReported & { ledge: UpdateStatus };

/**
 * The agent with `ledge` in its reported properties, cut to fit a twin's reported side (the hub's
 * `$edgeAgent` twin and the parent's refuse a larger one whole).
 */
function withUpdateReport(agent: Agent, updater: Updater, logger: Logger): Agent {
  const fit = new ReportedFit(logger);
  const reported = () =>
    fit.apply({ ...agent.reported(), ledge: updater.status() } as ReportedWithUpdate);
  return {
    deploy: (manifest, options) => agent.deploy(manifest, options),
    reported,
    onReportedChange(listener) {
      const offAgent = agent.onReportedChange(() => listener(reported()));
      const offUpdate = updater.onChange(() => listener(reported()));
      return () => {
        offAgent();
        offUpdate();
      };
    },
    onDeploymentAccepted: (listener) => agent.onDeploymentAccepted(listener),
    current: () => agent.current(),
  };
}

function descriptorOf(header: string | undefined): ArtifactDescriptor {
  if (!header) throw httpError(400, `Cannot take the file: no ${DESCRIPTOR_HEADER} header`);
  try {
    return ArtifactDescriptor.parse(JSON.parse(atob(header)));
  } catch (error) {
    throw httpError(400, `Cannot take the file: ${DESCRIPTOR_HEADER} is not a signed descriptor`, {
      reason: (error as Error).message,
    });
  }
}

async function install(
  updater: Updater,
  descriptor: ArtifactDescriptor,
  body: ReadableStream | null,
) {
  if (!body) throw httpError(400, "Cannot take the file: the body is empty");
  try {
    await updater.installLocal(body, descriptor);
  } catch (error) {
    if (error instanceof UpdateRefusedError) {
      throw httpError(422, `Cannot update to ${descriptor.version}: ${error.message}`);
    }
    throw error;
  }
}

async function publish(
  store: ArtifactStore,
  descriptor: ArtifactDescriptor,
  body: ReadableStream | null,
) {
  if (!body) throw httpError(400, "Cannot publish: the body is empty");
  try {
    await store.publish(body, descriptor);
  } catch (error) {
    if (error instanceof ArtifactMismatchError) throw httpError(422, error.message);
    throw error;
  }
}

/** The update routes (bodies are files, described by the {@linkcode DESCRIPTOR_HEADER}). */
export function createUpdateApi(updater: Updater, store: ArtifactStore) {
  return new Hono()
    .get("/v1/update", (c) => c.json(updater.status()))
    .post("/v1/update", async (c) => {
      const descriptor = descriptorOf(c.req.header(DESCRIPTOR_HEADER));
      await install(updater, descriptor, c.req.raw.body);
      return c.json({ version: descriptor.version, restarting: true }, 202);
    })
    .get("/v1/artifacts", async (c) => c.json(await store.list()))
    .put("/v1/artifacts", async (c) => {
      const descriptor = descriptorOf(c.req.header(DESCRIPTOR_HEADER));
      await publish(store, descriptor, c.req.raw.body);
      return c.json(descriptor, 201);
    });
}

/** The update routes, as hono's typed client (`hc`) sees them. */
export type UpdateApi = ReturnType<typeof createUpdateApi>;

const API_DOCS: ApiDocs = {
  "GET /v1/update": { summary: "the running version and the last update's outcome", tag: "update" },
  "POST /v1/update": {
    summary: "install a release executable (body) signed by its x-ledge-descriptor, then restart",
    tag: "update",
    status: 202,
  },
  "GET /v1/artifacts": { summary: "the update artifacts this parent serves", tag: "update" },
  "PUT /v1/artifacts": {
    summary:
      "publish a release executable (body) with its x-ledge-descriptor for the devices below",
    tag: "update",
    status: 201,
  },
};

/** Builds the update component. */
export function createUpdateComponent(
  context: RuntimeContext,
  options: UpdateComponentOptions,
): UpdateComponent {
  const logger = context.logger.child("update");
  const updater = new Updater({
    config: context.config,
    stateDir: context.stateDir,
    logger,
    exit: options.exit,
    upstreamConnected: options.upstreamConnected,
    ...(options.committed ? { committed: options.committed } : {}),
  });
  let started = false;
  const follow = () => {
    const deployment = options.agent.current();
    if (!started || !deployment) return;
    updater.desired(deployment.runtime.settings.ledgeVersion, deployment.version).catch((error) =>
      logger.error("the update failed unexpectedly", { error })
    );
  };
  const unsubscribe = options.agent.onDeploymentAccepted(() => queueMicrotask(follow));
  return {
    name: "update",
    updater,
    agent: withUpdateReport(options.agent, updater, context.logger.child("agent")),
    api: createUpdateApi(updater, options.store),
    apiDocs: API_DOCS,
    async start() {
      await updater.start();
      started = true;
      follow();
    },
    stop() {
      started = false;
      unsubscribe();
      updater.stop();
      return Promise.resolve();
    },
  };
}
