/**
 * The security routes of the management API: identities (`/v1/identities`) and certificates
 * (`/v1/certificates`), for `ledge identity ...` and `ledge cert ...`. SAS keys leave only once, in
 * the connection string `POST /v1/identities` returns.
 */
import { identityLabel } from "../iothub/mod.ts";
import { Hono } from "hono";
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import type { Config } from "../core/config.ts";
import { type ApiDocs, httpError, jsonBody } from "../core/api.ts";
import { type Identity, IdentityId, publicIdentity } from "./identity.ts";
import { IdentityExistsError } from "./identity_registry.ts";
import type { SecurityManagerControl } from "./security_manager.ts";

/** Body of `POST /v1/identities`. */
export const AddDeviceRequest = lazySchema(() =>
  z.strictObject({
    deviceId: IdentityId,
    auth: z.enum(["sas", "x509"], { error: 'expected "sas" or "x509"' }).default("sas"),
    /** A child edge device (a ledge that uses this one as its parent). */
    edge: z.boolean({ error: "expected true or false" }).default(false),
  })
);
/** Body of `POST /v1/identities`. */
export type AddDeviceRequest = z.infer<typeof AddDeviceRequest>;

/** Body of `POST /v1/certificates/renew`. */
export const RenewRequest = lazySchema(() => z.strictObject({ ca: z.boolean().default(false) }));
/** Body of `POST /v1/certificates/renew`. */
export type RenewRequest = z.infer<typeof RenewRequest>;

/** What a child edge device needs in its `[upstream]` section to use this ledge as parent. */
export interface ParentLink {
  hostname: string;
  port: number;
  protocol: "mqtts" | "wss";
  /** This ledge's HTTPS listener (self-update downloads): the child's `upstream.https_port`. */
  httpsPort: number;
  sharedAccessKey: string;
  /** This ledge's trust bundle (PEM): the child's `upstream.ca_file`. */
  caPem: string;
}

/**
 * The link a child edge device uses to reach this ledge, from `[device]` and `[hub]`; `bound` are
 * the hub's bound ports (they differ from the config's when it says port 0).
 */
export function parentLink(
  config: Config,
  identity: Identity,
  options: { caPem: string; bound?: Readonly<Record<string, number>> },
): ParentLink {
  if (identity.auth.type !== "sas") {
    throw new TypeError(
      `Cannot describe the parent link: ${identityLabel(identity)} has no SAS key`,
    );
  }
  const wss = !config.hub.mqtt.enabled && config.hub.https.enabled;
  return {
    hostname: config.device.hostname,
    port: wss
      ? options.bound?.https ?? config.hub.https.port
      : options.bound?.mqtts ?? config.hub.mqtt.port,
    protocol: wss ? "wss" : "mqtts",
    httpsPort: options.bound?.https ?? config.hub.https.port,
    sharedAccessKey: identity.auth.primaryKey,
    caPem: options.caPem,
  };
}

/** The connection string a leaf device uses through this gateway. */
export function connectionString(config: Config, identity: Identity): string {
  if (identity.auth.type !== "sas") {
    throw new TypeError(
      `Cannot make a connection string: ${identityLabel(identity)} has no SAS key`,
    );
  }
  return `HostName=${config.device.iothub_hostname};DeviceId=${identity.deviceId};SharedAccessKey=${identity.auth.primaryKey};GatewayHostName=${config.device.hostname}`;
}

function mapErrors(error: unknown): never {
  if (error instanceof IdentityExistsError) throw httpError(409, error.message);
  if (error instanceof RangeError) throw httpError(400, error.message);
  throw error;
}

function found(manager: SecurityManagerControl, deviceId: string, moduleId?: string): Identity {
  const identity = manager.registry.get(deviceId, moduleId);
  if (!identity) {
    throw httpError(404, `Cannot find identity ${identityLabel({ deviceId, moduleId })}`);
  }
  return identity;
}

/** What `createSecurityApi` needs besides the manager and the config. */
export interface SecurityApiOptions {
  /** The ports the hub's listeners bound, for a child's `[upstream]` snippet. */
  hubListeners?: () => Readonly<Record<string, number>>;
}

async function addDevice(
  manager: SecurityManagerControl,
  config: Config,
  request: AddDeviceRequest,
  options: SecurityApiOptions,
) {
  const added = await manager.addDevice(request.deviceId, request.auth, { edge: request.edge })
    .catch(mapErrors);
  return {
    identity: publicIdentity(added.identity),
    ...(added.identity.auth.type === "sas"
      ? { connectionString: connectionString(config, added.identity) }
      : { certificateFile: added.certificateFile, keyFile: added.keyFile }),
    ...(request.edge
      ? {
        parent: parentLink(config, added.identity, {
          caPem: manager.trustBundlePem(),
          bound: options.hubListeners?.() ?? {},
        }),
      }
      : {}),
  };
}

/** Builds the routes over `manager`. */
export function createSecurityApi(
  manager: SecurityManagerControl,
  config: Config,
  options: SecurityApiOptions = {},
) {
  return new Hono()
    .get(
      "/v1/identities",
      (c) => c.json({ identities: manager.registry.list().map(publicIdentity) }),
    )
    .post(
      "/v1/identities",
      jsonBody(AddDeviceRequest),
      async (c) => c.json(await addDevice(manager, config, c.req.valid("json"), options), 201),
    )
    .get("/v1/identities/:deviceId", (c) => {
      const identity = found(manager, c.req.param("deviceId"));
      return c.json({
        ...publicIdentity(identity),
        spiffeId: spiffeIdOrNull(manager, identity),
        modules: manager.registry.modulesOf(identity.deviceId).map(publicIdentity),
      });
    })
    .get("/v1/identities/:deviceId/modules/:moduleId", (c) => {
      const identity = found(manager, c.req.param("deviceId"), c.req.param("moduleId"));
      return c.json({ ...publicIdentity(identity), spiffeId: spiffeIdOrNull(manager, identity) });
    })
    .delete("/v1/identities/:deviceId", async (c) => {
      const deviceId = c.req.param("deviceId");
      found(manager, deviceId);
      await manager.removeDevice(deviceId).catch((error) => {
        if (error instanceof RangeError) throw httpError(409, error.message);
        throw error;
      });
      return c.body(null, 204);
    })
    .get("/v1/certificates", (c) =>
      c.json({
        trustDomain: manager.trustDomain,
        clockWarning: manager.clockWarning ?? null,
        certificates: manager.certificates(),
      }))
    .post("/v1/certificates/renew", jsonBody(RenewRequest), async (c) => {
      await manager.renew(c.req.valid("json")).catch((error: Error) => {
        throw httpError(409, error.message);
      });
      return c.json({ certificates: manager.certificates() });
    });
}

/** The security routes, as hono's typed client (`hc`) sees them. */
export type SecurityApi = ReturnType<typeof createSecurityApi>;

function spiffeIdOrNull(manager: SecurityManagerControl, identity: Identity): string | null {
  const path = [identity.deviceId, identity.moduleId].filter((part) => part !== undefined);
  return path.every((part) => /^[A-Za-z0-9._-]+$/.test(part!) && part !== "." && part !== "..")
    ? `spiffe://${manager.trustDomain}/ledge/${path.join("/")}`
    : null;
}

/** The OpenAPI documentation of the security routes. */
export const SECURITY_API_DOCS: ApiDocs = {
  "GET /v1/identities": {
    summary: "Every identity (device, modules, leaf devices), without keys",
    tag: "identities",
  },
  "POST /v1/identities": {
    summary: "Register a leaf device; answers its connection string once",
    tag: "identities",
    status: 201,
    body: AddDeviceRequest,
  },
  "GET /v1/identities/{deviceId}": {
    summary: "One device identity and its modules, without keys",
    tag: "identities",
  },
  "DELETE /v1/identities/{deviceId}": {
    summary: "Remove a leaf device",
    tag: "identities",
    status: 204,
  },
  "GET /v1/identities/{deviceId}/modules/{moduleId}": {
    summary: "One module identity, without keys",
    tag: "identities",
  },
  "GET /v1/certificates": {
    summary: "Certificates: subject, SANs, notAfter, days left",
    tag: "certificates",
  },
  "POST /v1/certificates/renew": {
    summary: "Renew every leaf certificate now (ca: the edge CA first)",
    tag: "certificates",
    body: RenewRequest,
  },
};
