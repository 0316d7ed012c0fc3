/**
 * SASL PLAIN as edgeHub takes it: the username names the identity,
 * `{deviceId}[/modules/{moduleId}]@sas.{hubName}` (ids URL-encoded, `hubName` the first label of
 * the IoT hub's host name), and the password is that identity's SAS token.
 */

/** The identity a SASL PLAIN username claims. */
export interface SaslClaim {
  deviceId: string;
  moduleId?: string;
  hubName: string;
}

/** A username that is not an IoT Hub SASL identity. */
export class SaslUsernameError extends Error {
  override name = "SaslUsernameError";
}

const USERNAME = /^([^/@]+)(?:\/modules\/([^/@]+))?@(?:sas\.)?([A-Za-z0-9_-]+)$/i;

/**
 * Reads a SASL PLAIN username.
 *
 * @throws {SaslUsernameError} for anything else.
 * @example
 * ```ts
 * parseSaslUsername("edge/modules/filter@sas.myhub");
 * // { deviceId: "edge", moduleId: "filter", hubName: "myhub" }
 * ```
 */
export function parseSaslUsername(username: string): SaslClaim {
  const match = USERNAME.exec(username);
  if (!match) {
    throw new SaslUsernameError(
      `Cannot accept SASL username "${username}": expected {deviceId}[/modules/{moduleId}]@sas.{hubName}`,
    );
  }
  try {
    const deviceId = decodeURIComponent(match[1]!);
    const hubName = match[3]!;
    return match[2] === undefined
      ? { deviceId, hubName }
      : { deviceId, moduleId: decodeURIComponent(match[2]), hubName };
  } catch {
    throw new SaslUsernameError(`Cannot accept SASL username "${username}": invalid URL encoding`);
  }
}

/** Whether `hubName` is the first label of one of `hostnames` (case-insensitive). */
export function hubNameMatches(hubName: string, hostnames: readonly string[]): boolean {
  const wanted = hubName.toLowerCase();
  return hostnames.some((host) => host.toLowerCase().split(".")[0] === wanted);
}
