/**
 * SPIFFE IDs: `spiffe://<trust-domain>/<path>` with the rules of the SPIFFE ID standard, and the
 * ids ledge gives its workloads: `spiffe://<td>/ledge/<device>[/<module>]`.
 */

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_LENGTH = 2048;

/** A parsed SPIFFE ID. */
export interface SpiffeId {
  trustDomain: string;
  /** The path with its leading `/`, e.g. `/ledge/dev1/sensor`. */
  path: string;
}

/** Whether `segment` can be one path segment of a SPIFFE ID. */
export function isSpiffeSegment(segment: string): boolean {
  return SEGMENT.test(segment) && segment !== "." && segment !== "..";
}

/**
 * Parses and validates a SPIFFE ID.
 *
 * @throws {TypeError} naming the rule `id` breaks.
 */
export function parseSpiffeId(id: string): SpiffeId {
  const fail = (reason: string): never => {
    throw new TypeError(`Cannot parse SPIFFE ID "${id}": ${reason}`);
  };
  if (new TextEncoder().encode(id).length > MAX_LENGTH) fail(`longer than ${MAX_LENGTH} bytes`);
  if (!id.startsWith("spiffe://")) fail('expected the scheme "spiffe://"');
  const rest = id.slice("spiffe://".length);
  const slash = rest.indexOf("/");
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash);
  if (!TRUST_DOMAIN.test(trustDomain)) fail("the trust domain must be lowercase a-z 0-9 . _ -");
  if (path !== "") {
    for (const segment of path.slice(1).split("/")) {
      if (!isSpiffeSegment(segment)) {
        fail(`path segment "${segment}" must be non-empty A-Z a-z 0-9 . _ - and not . or ..`);
      }
    }
  }
  return { trustDomain, path };
}

/**
 * The SPIFFE ID of a device (`ledge/<device>`) or of one of its modules
 * (`ledge/<device>/<module>`).
 *
 * @throws {RangeError} when an id has characters a SPIFFE path cannot hold (IoT Hub allows
 * `%*?!(),:=@$'`; SPIFFE only `A-Z a-z 0-9 . _ -`).
 */
export function workloadSpiffeId(
  trustDomain: string,
  deviceId: string,
  moduleId?: string,
): string {
  for (const [field, value] of [["device id", deviceId], ["module id", moduleId]] as const) {
    if (value !== undefined && !isSpiffeSegment(value)) {
      throw new RangeError(
        `Cannot make a SPIFFE ID: ${field} "${value}" has characters outside A-Z a-z 0-9 . _ -`,
      );
    }
  }
  const id = `spiffe://${trustDomain}/ledge/${deviceId}${moduleId ? `/${moduleId}` : ""}`;
  parseSpiffeId(id);
  return id;
}
