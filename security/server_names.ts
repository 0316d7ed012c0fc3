/**
 * The DNS names a server certificate may carry: the hub's (its host names, loopback), and what
 * each module may claim through the workload API.
 *
 * The rule for modules: module `m` may have a server certificate for `m` itself and for names
 * under it, `m.<anything>` (e.g. `opcua` and `opcua.plant.local`), compared case-insensitively,
 * as DNS names (labels of a-z 0-9 _ -, no wildcard, no IP address) - except
 * - the hub's names (`[device] hostname`, `iothub_hostname`, `localhost`, the machine's host name):
 *   a module must never pose as the hub (a name under one, `opcua.<hostname>`, is fine);
 * - another module's name and the names under it: of two modules whose ids nest (`a` and `a.b`),
 *   the longer one owns `a.b` and everything under it.
 */
import type { Config } from "../core/config.ts";

/** A name a module may not claim: the workload API answers 403. */
export class ServerNameNotAllowedError extends Error {
  override name = "ServerNameNotAllowedError";
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const IP_LITERAL = /^[\d.]+$|:/;

/** The hub's server names: DNS names and IP addresses, lower-cased. */
export function hubServerNames(
  config: Config,
  machineHostname: string,
): { dnsNames: string[]; ipAddresses: string[] } {
  const names = new Set(
    [config.device.hostname, config.device.iothub_hostname, "localhost", machineHostname]
      .map((name) => name.toLowerCase()),
  );
  const ips = new Set(["127.0.0.1", "::1"]);
  for (const name of [...names]) {
    if (IP_LITERAL.test(name)) {
      names.delete(name);
      ips.add(name);
    }
  }
  return { dnsNames: [...names], ipAddresses: [...ips] };
}

/** Whether `name` is a DNS host name (dot-separated labels, <= 253 characters). */
export function isDnsName(name: string): boolean {
  return name.length <= 253 && name.split(".").every((label) => LABEL.test(label));
}

/** What a requested name is judged against. */
export interface ModuleNameRules {
  moduleId: string;
  /** The other modules of this device. */
  otherModuleIds: readonly string[];
  /** The hub's DNS names ({@linkcode hubServerNames}). */
  hubNames: readonly string[];
}

/**
 * Checks that the module may claim `requested`; returns it lower-cased.
 *
 * @throws {RangeError} when it is not a DNS name (an IP address, a wildcard, bad characters).
 * @throws {ServerNameNotAllowedError} naming the rule it breaks.
 */
export function checkModuleServerName(requested: string, rules: ModuleNameRules): string {
  const name = requested.toLowerCase().replace(/\.$/, "");
  const own = rules.moduleId.toLowerCase();
  const refuse = (reason: string): never => {
    throw new ServerNameNotAllowedError(
      `Cannot issue a server certificate for "${requested}" to module "${rules.moduleId}": ${reason}`,
    );
  };
  if (IP_LITERAL.test(name)) {
    throw new RangeError(
      `Cannot issue a server certificate for "${requested}": modules get DNS names, not IP addresses`,
    );
  }
  if (!isDnsName(name)) {
    throw new RangeError(
      `Cannot issue a server certificate for "${requested}": expected a DNS name (labels of a-z 0-9 _ -, no wildcard)`,
    );
  }
  if (rules.hubNames.includes(name)) refuse("it is one of the hub's names");
  if (name !== own && !name.startsWith(`${own}.`)) {
    refuse(`a module may claim only "${own}" and names under it ("${own}.<name>")`);
  }
  for (const other of rules.otherModuleIds) {
    const id = other.toLowerCase();
    if (id === own || id.length <= own.length) continue;
    if (name === id || name.startsWith(`${id}.`)) {
      refuse(`"${id}" and the names under it belong to module "${other}"`);
    }
  }
  return name;
}
