/** Which time-to-live applies to a message in an endpoint queue. */

/** The TTL sources, most specific first; see {@linkcode resolveTtlSeconds}. */
export interface TtlSources {
  /** The route's `timeToLiveSecs`; undefined or 0 means the route does not set one. */
  routeTtlSeconds?: number | undefined;
  /** `$edgeHub` desired `storeAndForwardConfiguration.timeToLiveSecs`, when deployed. */
  deploymentTtlSeconds?: number | undefined;
  /** Config `hub.store.time_to_live_secs`. */
  configTtlSeconds: number;
}

/**
 * The TTL of a message in a queue: the route's, else the deployment's, else the config's.
 * A route TTL of 0 means "not set", as in IoT Edge (schema 1.0 routes carry no TTL and read as
 * 0); a negative result means the message never expires.
 *
 * @example
 * ```ts
 * resolveTtlSeconds({ routeTtlSeconds: 0, deploymentTtlSeconds: 7200, configTtlSeconds: 60 });
 * // 7200
 * ```
 */
export function resolveTtlSeconds(sources: TtlSources): number {
  const { routeTtlSeconds, deploymentTtlSeconds, configTtlSeconds } = sources;
  if (routeTtlSeconds !== undefined && routeTtlSeconds !== 0) return routeTtlSeconds;
  if (deploymentTtlSeconds !== undefined) return deploymentTtlSeconds;
  return configTtlSeconds;
}
