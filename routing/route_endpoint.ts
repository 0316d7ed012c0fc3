/** Where a route delivers: IoT Hub, or an input of a module. */
export type Endpoint =
  | { readonly kind: "upstream" }
  | { readonly kind: "module"; readonly moduleId: string; readonly input: string };

/** The sink forms a route may use, for error messages. */
export const ACCEPTED_SINKS = '$upstream or BrokeredEndpoint("/modules/<moduleId>/inputs/<input>")';

const UPSTREAM: Endpoint = Object.freeze({ kind: "upstream" });
const MODULE_INPUT = /^\/modules\/([^/]+)\/inputs\/([^/]+)$/i;

/** The `$upstream` endpoint. */
export function upstreamEndpoint(): Endpoint {
  return UPSTREAM;
}

/**
 * The module input named by a `BrokeredEndpoint` address such as `/modules/filter/inputs/in1`,
 * or undefined when the address has another shape. The words `modules` and `inputs` are
 * matched case-insensitively; module and input names keep their case.
 */
export function moduleEndpoint(address: string): Endpoint | undefined {
  const match = MODULE_INPUT.exec(address);
  if (match === null) return undefined;
  return Object.freeze({ kind: "module", moduleId: match[1] ?? "", input: match[2] ?? "" });
}

/**
 * A stable string key for an endpoint, equal for equal endpoints: `$upstream`, or the
 * module input address `/modules/{moduleId}/inputs/{input}`.
 *
 * @example
 * ```ts
 * endpointKey({ kind: "module", moduleId: "filter", input: "in1" }); // "/modules/filter/inputs/in1"
 * ```
 */
export function endpointKey(endpoint: Endpoint): string {
  return endpoint.kind === "upstream"
    ? "$upstream"
    : `/modules/${endpoint.moduleId}/inputs/${endpoint.input}`;
}
