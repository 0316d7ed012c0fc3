/**
 * Why a connection to the parent failed, in words an operator can act on: refused credentials,
 * an untrusted parent certificate, an unreachable host, or a dropped link.
 */

/** The broad reason, for metrics and for deciding what to log. */
export type ConnectErrorKind = "auth" | "tls" | "network" | "protocol" | "config";

/** A classified connection failure. */
export interface ConnectFailure {
  kind: ConnectErrorKind;
  /** One line naming what failed and why. */
  message: string;
}

const CONNACK_REASONS: Record<number, [ConnectErrorKind, string]> = {
  1: ["protocol", "unacceptable protocol version"],
  2: ["auth", "client identifier rejected"],
  3: ["network", "server unavailable"],
  4: ["auth", "bad user name or password (SAS token refused)"],
  5: ["auth", "not authorized (unknown identity, wrong or revoked key, or expired token)"],
};

const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error
    ? (error as { code: unknown }).code
    : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Classifies `error` from one attempt to connect to `where` (e.g. `parent:8883 as child/sensor`).
 *
 * @example
 * ```ts
 * describeConnectError(Object.assign(new Error("Connection refused: Not authorized"), { code: 5 }),
 *   "parent:8883 as child").kind; // "auth"
 * ```
 */
export function describeConnectError(error: unknown, where: string): ConnectFailure {
  const code = codeOf(error);
  const detail = messageOf(error);
  if (typeof code === "number" && CONNACK_REASONS[code]) {
    const [kind, reason] = CONNACK_REASONS[code];
    return {
      kind,
      message: `Cannot connect to ${where}: the parent answered CONNACK ${code}, ${reason}`,
    };
  }
  if (
    (typeof code === "string" && TLS_CODES.has(code)) ||
    /certificate|self[- ]signed|altname|unknown ca|handshake/i.test(detail)
  ) {
    return {
      kind: "tls",
      message: `Cannot connect to ${where}: the parent's TLS certificate is not trusted ` +
        `(check upstream.ca_file and upstream.hostname): ${detail}`,
    };
  }
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    return { kind: "network", message: `Cannot connect to ${where}: ${detail}` };
  }
  return { kind: "protocol", message: `Cannot connect to ${where}: ${detail}` };
}
