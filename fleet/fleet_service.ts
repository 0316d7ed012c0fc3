/**
 * The fleet's operations, as the management API and the CLI use them: device twins and tags,
 * queries, deployments and enrollment groups. Input is checked here, before anything changes:
 * a target condition, query or metric that does not parse is a 400 naming its line and column;
 * deployment content the agent would refuse is a 400 naming its JSON path.
 *
 * @module
 */
import type { z } from "zod";
import { httpError } from "../core/api.ts";
import { LanguageSyntaxError } from "../routing/mod.ts";
import type { FleetController } from "./fleet_controller.ts";
import {
  DeploymentRequest,
  type DeploymentUpdate,
  type StoredDeployment,
} from "./deployment_config.ts";
import { contentIssues, type ModulesContent } from "./deployment_content.ts";
import type { DeploymentStore } from "./deployment_store.ts";
import { checkTagsPatch, type DeviceRecords, TagsError } from "./device_records.ts";
import {
  type Enrollment,
  type EnrollmentRequest,
  type EnrollmentStore,
} from "./enrollment_store.ts";
import type { QueryCollection } from "./query_ast.ts";
import { parseCondition, parseQuery } from "./query_parser.ts";
import { ContinuationTokenError, type QueryPage, type QueryRow, runQuery } from "./query_run.ts";
import { type DeploymentView, describeDeployment, summarizeDeployment } from "./deployment_view.ts";
import type { FleetTwins } from "./twin_documents.ts";
import type { TwinDoc } from "./query_eval.ts";

/** How a device reaches this parent: what its `[upstream]` section names. */
export interface ParentEndpoint {
  hostname: string;
  port: number;
  protocol: "mqtts" | "wss";
  /** This ledge's trust bundle (PEM), the device's `upstream.ca_file`. */
  caPem: string;
}

/** What the service works on. */
export interface FleetServiceParts {
  /** How devices reach this parent (included when an enrollment group is created). */
  parent?: () => ParentEndpoint;
  controller: FleetController;
  records: DeviceRecords;
  deployments: DeploymentStore;
  enrollments: EnrollmentStore;
  now: () => number;
}

/** A 400 answering a text that does not parse, with where. */
function syntaxError(error: unknown): never {
  if (error instanceof LanguageSyntaxError) {
    throw httpError(400, error.message, {
      line: error.line,
      column: error.column,
      found: error.found,
      expected: error.expected,
    });
  }
  throw error;
}

/** Rows of `collection` in `twins`, keyed for paging. */
export function queryRows(twins: FleetTwins, collection: QueryCollection): QueryRow[] {
  if (collection === "devices") {
    return [...twins.devices].map(([key, device]) => ({ key, doc: device.doc }));
  }
  return [...twins.modules].map(([key, doc]) => ({ key, doc }));
}

/** The fleet's operations. */
export class FleetService {
  readonly #parts: FleetServiceParts;

  constructor(parts: FleetServiceParts) {
    this.#parts = parts;
  }

  /** A device's twin (tags included); 404 when the fleet does not know it. */
  device(deviceId: string): TwinDoc {
    const device = this.#parts.controller.twins().devices.get(deviceId.toLowerCase());
    if (device === undefined) {
      throw httpError(
        404,
        `Cannot find device ${deviceId}: it is neither registered here nor below`,
      );
    }
    return device.doc;
  }

  /** Merges `patch` into a device's tags; resolves with its twin. */
  async patchTags(deviceId: string, patch: unknown): Promise<TwinDoc> {
    const known = this.device(deviceId);
    try {
      await this.#parts.records.patchTags(String(known.deviceId), patch);
    } catch (error) {
      if (error instanceof TagsError) throw httpError(400, error.message);
      throw error;
    }
    this.#parts.controller.schedule();
    return this.device(deviceId);
  }

  /** One page of a query's results. */
  query(text: string, page: { pageSize?: number; continuationToken?: string }): QueryPage {
    let ast;
    try {
      ast = parseQuery(text);
    } catch (error) {
      syntaxError(error);
    }
    try {
      return runQuery(ast, queryRows(this.#parts.controller.twins(), ast.from), page);
    } catch (error) {
      if (error instanceof ContinuationTokenError) throw httpError(400, error.message);
      throw error;
    }
  }

  /** Every deployment with its counts. */
  listDeployments(): ReturnType<typeof summarizeDeployment>[] {
    const twins = this.#parts.controller.twins();
    const statuses = this.#parts.controller.statuses(twins);
    return this.#parts.deployments.list().map((d) => summarizeDeployment(d, statuses));
  }

  /** One deployment with its metrics, rollout and per-device outcome. */
  showDeployment(id: string): DeploymentView {
    const deployment = this.#requireDeployment(id);
    const twins = this.#parts.controller.twins();
    return describeDeployment(deployment, {
      twins,
      statuses: this.#parts.controller.statuses(twins),
      errorOf: (deviceId) => this.#parts.controller.error(deviceId),
    });
  }

  /** Creates a deployment (checked in full first); resolves once its targets were evaluated. */
  async createDeployment(
    body: DeploymentRequest | z.input<typeof DeploymentRequest>,
  ): Promise<DeploymentView> {
    const request = DeploymentRequest.parse(body);
    if (this.#parts.deployments.get(request.id)) {
      throw httpError(
        409,
        `Cannot create deployment ${request.id}: it exists (update or delete it)`,
      );
    }
    this.#check(request);
    await this.#parts.deployments.add(request, new Date(this.#parts.now()));
    await this.#parts.controller.settle();
    return this.showDeployment(request.id);
  }

  /** Changes a deployment; content too (devices running it get the new content). */
  async updateDeployment(id: string, change: DeploymentUpdate): Promise<DeploymentView> {
    const current = this.#requireDeployment(id);
    const next = { ...current, ...change } as StoredDeployment;
    this.#check(next);
    const defined = Object.fromEntries(
      Object.entries(change).filter(([, value]) => value !== undefined),
    ) as Partial<StoredDeployment>;
    await this.#parts.deployments.update(id, defined, new Date(this.#parts.now()));
    await this.#parts.controller.settle();
    return this.showDeployment(id);
  }

  /** Removes a deployment; devices take their next deployment, or keep what runs. */
  async deleteDeployment(id: string): Promise<void> {
    this.#requireDeployment(id);
    await this.#parts.deployments.remove(id);
    await this.#parts.controller.settle();
  }

  /** Every enrollment group, keys left out. */
  listEnrollments(): Omit<Enrollment, "primaryKey" | "secondaryKey">[] {
    return this.#parts.enrollments.list().map(({ primaryKey: _p, secondaryKey: _s, ...rest }) =>
      rest
    );
  }

  /** One enrollment group, with its keys. */
  showEnrollment(id: string): Enrollment {
    const enrollment = this.#parts.enrollments.get(id);
    if (!enrollment) throw httpError(404, `Cannot find enrollment group ${id}`);
    return enrollment;
  }

  /** Creates an enrollment group; its keys (and how devices reach this parent) are in the answer. */
  async createEnrollment(
    request: EnrollmentRequest,
  ): Promise<Enrollment & { parent?: ParentEndpoint }> {
    if (this.#parts.enrollments.get(request.id)) {
      throw httpError(409, `Cannot create enrollment group ${request.id}: it exists`);
    }
    try {
      checkTagsPatch(request.tags);
    } catch (error) {
      if (error instanceof TagsError) {
        throw httpError(
          400,
          error.message.replace("Cannot set tags", "Cannot set enrollment tags"),
        );
      }
      throw error;
    }
    if (request.deployment !== undefined) {
      if (!this.#parts.deployments.get(request.deployment)) {
        throw httpError(
          400,
          `Cannot create enrollment group ${request.id}: deployment ${request.deployment} does not exist`,
        );
      }
      if (!request.edge) {
        throw httpError(
          400,
          `Cannot create enrollment group ${request.id}: a deployment needs edge devices (edge: true)`,
        );
      }
    }
    const enrollment = await this.#parts.enrollments.add(request, new Date(this.#parts.now()));
    const parent = this.#parts.parent?.();
    return parent === undefined ? enrollment : { ...enrollment, parent };
  }

  /** Removes an enrollment group: no new registrations; registered devices stay. */
  async deleteEnrollment(id: string): Promise<void> {
    if (!(await this.#parts.enrollments.remove(id))) {
      throw httpError(404, `Cannot find enrollment group ${id}`);
    }
  }

  #requireDeployment(id: string): StoredDeployment {
    const deployment = this.#parts.deployments.get(id);
    if (!deployment) throw httpError(404, `Cannot find deployment ${id}`);
    return deployment;
  }

  /** Checks condition, metrics and content; throws a 400 on the first problem. */
  #check(
    deployment: Pick<StoredDeployment, "targetCondition" | "metrics" | "content" | "layered">,
  ): void {
    if (deployment.targetCondition.trim() !== "*") {
      try {
        parseCondition(deployment.targetCondition, { subject: "target condition" });
      } catch (error) {
        syntaxError(error);
      }
    }
    for (const [name, query] of Object.entries(deployment.metrics.queries)) {
      try {
        parseQuery(query, { subject: `metric ${name}` });
      } catch (error) {
        syntaxError(error);
      }
    }
    const issues = contentIssues(
      deployment.content.modulesContent as ModulesContent,
      deployment.layered,
    );
    if (issues.length > 0) {
      const first = issues[0]!;
      throw httpError(
        400,
        `Cannot accept the deployment's content: ${first.path}: ${first.message}`,
        { issues },
      );
    }
  }
}
