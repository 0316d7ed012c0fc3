/**
 * Reading who a CONNECT claims to be: clientId `device` or `device/module`, and the username
 * `{hub}/{device}[/{module}]/?api-version=...` (or the legacy form without `?`). The username's
 * ids must match the clientId's, and its host must be one of the hub's names (the IoT Hub host
 * name the SDK puts there, or the gateway's own host name).
 */

/** The identity a CONNECT claims. */
export interface ClaimedIdentity {
  deviceId: string;
  moduleId?: string;
}

/** A CONNECT whose clientId or username is not an IoT Hub one. */
export class ConnectCredentialsError extends Error {
  override name = "ConnectCredentialsError";
}

const ID = /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/;

function parseClientId(clientId: string): ClaimedIdentity {
  const parts = clientId.split("/");
  if (parts.length > 2 || !parts.every((part) => ID.test(part))) {
    throw new ConnectCredentialsError(
      `Cannot accept clientId "${clientId}": expected "deviceId" or "deviceId/moduleId"`,
    );
  }
  return parts.length === 2
    ? { deviceId: parts[0]!, moduleId: parts[1]! }
    : { deviceId: parts[0]! };
}

/**
 * Checks clientId and username together and returns the claimed identity.
 *
 * @throws {ConnectCredentialsError} naming the field that is wrong.
 * @example
 * ```ts
 * parseConnectCredentials("d1/m1", "hub.example/d1/m1/?api-version=2021-04-12", {
 *   hubHosts: ["hub.example", "gateway.local"],
 * });
 * // { deviceId: "d1", moduleId: "m1" }
 * ```
 */
export function parseConnectCredentials(
  clientId: string,
  username: string | undefined,
  options: { hubHosts: readonly string[] },
): ClaimedIdentity {
  const claimed = parseClientId(clientId);
  if (username === undefined || username === "") {
    throw new ConnectCredentialsError("Cannot accept CONNECT: username is missing");
  }
  const question = username.indexOf("?");
  const path = question < 0 ? username : username.slice(0, question);
  const query = question < 0 ? "" : username.slice(question + 1);
  const segments = path.split("/");
  if (segments.at(-1) === "") segments.pop();
  // Legacy form: `hub/device[/module]/api-version=...&DeviceClientType=...` (no `?`).
  let legacyQuery = "";
  if (question < 0 && segments.length > 0 && segments.at(-1)!.includes("=")) {
    legacyQuery = segments.pop()!;
  }
  const params = new URLSearchParams(query || legacyQuery);
  if (!params.has("api-version")) {
    throw new ConnectCredentialsError(
      `Cannot accept username "${username}": it has no api-version`,
    );
  }
  const host = (segments[0] ?? "").toLowerCase();
  if (!options.hubHosts.some((hubHost) => hubHost.toLowerCase() === host)) {
    throw new ConnectCredentialsError(
      `Cannot accept username "${username}": host "${segments[0]}" is not this hub's ` +
        `(${options.hubHosts.join(" or ")})`,
    );
  }
  const ids = segments.slice(1);
  const expected = claimed.moduleId === undefined
    ? [claimed.deviceId]
    : [claimed.deviceId, claimed.moduleId];
  const matches = ids.length === expected.length &&
    ids.every((id, i) => id.toLowerCase() === expected[i]!.toLowerCase());
  if (!matches) {
    throw new ConnectCredentialsError(
      `Cannot accept username "${username}": its ids do not match clientId "${clientId}"`,
    );
  }
  return claimed;
}
