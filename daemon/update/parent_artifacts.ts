/**
 * Artifacts over the link a child already trusts: the parent's HTTPS listener (its hub's, the one
 * MQTT over WebSocket uses), with the parent's CA bundle and the child's SAS token, as IoT Hub's
 * device HTTPS API authenticates.
 *
 *   GET /devices/{deviceId}/ledge/artifacts/{version}/{target}        -> the descriptor (JSON)
 *   GET /devices/{deviceId}/ledge/artifacts/{version}/{target}/file   -> the executable
 *
 * A parent that has no such artifact but a parent of its own fetches it from there first (and
 * keeps it), so a device at any depth updates through the layers above it.
 */
import type { Config } from "../../core/config.ts";
import { createSasToken, type IdentityRef } from "../../iothub/mod.ts";
import type { ArtifactStore } from "./artifact_store.ts";
import { ArtifactDescriptor } from "./signature.ts";

/** Why an artifact cannot be had from the parent (reported upward as it is). */
export class ParentArtifactError extends Error {
  override name = "ParentArtifactError";
}

/** How this device reaches its parent's artifacts. */
export interface ParentEndpoint {
  get(path: string): Promise<Response>;
  close(): void;
}

/**
 * The parent's artifacts endpoint from `[upstream]`.
 *
 * @throws {ParentArtifactError} when there is no parent or no SAS key.
 */
export function parentEndpoint(config: Config): ParentEndpoint {
  const upstream = config.upstream;
  if (!upstream.enabled) throw new ParentArtifactError("this device has no parent ([upstream])");
  if (upstream.shared_access_key === "") {
    throw new ParentArtifactError(
      "downloading from the parent needs [upstream] shared_access_key (X.509 children: use ledge update <file>)",
    );
  }
  const caCerts = upstream.ca_file ? [Deno.readTextFileSync(upstream.ca_file)] : undefined;
  const client = Deno.createHttpClient(caCerts ? { caCerts } : {});
  const deviceId = config.device.id;
  const base = `https://${upstream.hostname}:${upstream.https_port}/devices/${
    encodeURIComponent(deviceId)
  }/ledge/artifacts`;
  return {
    async get(path) {
      const token = createSasToken({ host: upstream.hostname, deviceId }, {
        keyBase64: upstream.shared_access_key,
        expiry: Math.floor(Date.now() / 1000) + 3600,
      });
      try {
        return await fetch(`${base}${path}`, { client, headers: { authorization: token } });
      } catch (error) {
        throw new ParentArtifactError(
          `Cannot reach the parent at ${upstream.hostname}:${upstream.https_port}: ${
            (error as Error).message
          }`,
        );
      }
    },
    close: () => client.close(),
  };
}

async function failure(response: Response, what: string): Promise<ParentArtifactError> {
  const text = await response.text().catch(() => "");
  let message = text.trim().slice(0, 300) || `HTTP ${response.status}`;
  try {
    message = JSON.parse(text).message ?? message;
  } catch { /* not JSON */ }
  return new ParentArtifactError(`Cannot get ${what} from the parent: ${message}`);
}

/** The parent's descriptor and file stream of `version` for `target`. */
export async function fetchFromParent(
  endpoint: ParentEndpoint,
  version: string,
  target: string,
): Promise<{ descriptor: ArtifactDescriptor; file: ReadableStream<Uint8Array> }> {
  const path = `/${encodeURIComponent(version)}/${encodeURIComponent(target)}`;
  const what = `ledge ${version} for ${target}`;
  const described = await endpoint.get(path);
  if (!described.ok) throw await failure(described, what);
  const parsed = ArtifactDescriptor.safeParse(await described.json().catch(() => undefined));
  if (!parsed.success) {
    throw new ParentArtifactError(`Cannot get ${what}: the parent's descriptor is malformed`);
  }
  const file = await endpoint.get(`${path}/file`);
  if (!file.ok || !file.body) throw await failure(file, what);
  return { descriptor: parsed.data, file: file.body };
}

/** What serving artifacts needs. */
export interface ArtifactRoutesOptions {
  store: ArtifactStore;
  verifySasToken(token: string, claimed: IdentityRef): { ok: boolean; reason?: string };
  /** This device's own parent, to fetch from when an artifact is not here. */
  parent?: () => ParentEndpoint;
}

const ROUTE = /^\/devices\/([^/]+)\/ledge\/artifacts\/([^/]+)\/([^/]+)(\/file)?$/;

function answer(status: number, message: string): Response {
  return Response.json({ message }, { status });
}

/** The HTTPS routes (for the hub's listener): undefined for requests that are not theirs. */
export function artifactRoutes(
  options: ArtifactRoutesOptions,
): (request: Request) => Promise<Response | undefined> {
  return async (request) => {
    const match = ROUTE.exec(new URL(request.url).pathname);
    if (!match || request.method !== "GET") return undefined;
    const [, device, version, target, file] = match.map((part) =>
      part === undefined ? part : decodeURIComponent(part)
    );
    const verdict = options.verifySasToken(request.headers.get("authorization") ?? "", {
      deviceId: device!,
    });
    if (!verdict.ok) return answer(401, `Cannot serve artifacts: ${verdict.reason}`);
    let stored = await options.store.get(version!, target!);
    if (!stored && options.parent) {
      const endpoint = options.parent();
      try {
        const fetched = await fetchFromParent(endpoint, version!, target!);
        await options.store.publish(fetched.file, fetched.descriptor);
        stored = await options.store.get(version!, target!);
      } catch (error) {
        return answer(404, (error as Error).message);
      } finally {
        endpoint.close();
      }
    }
    if (!stored) return answer(404, `Cannot find ledge ${version} for ${target} here`);
    if (!file) return Response.json(stored.descriptor);
    const opened = await Deno.open(stored.path);
    return new Response(opened.readable, {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(stored.descriptor.size),
      },
    });
  };
}
