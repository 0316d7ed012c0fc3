/**
 * `host:port` listen addresses of the config (`[metrics] listen`, `[console] listen`).
 */

/** A `host:port` split into its parts; an IPv6 host loses its brackets. */
export interface ListenAddress {
  hostname: string;
  port: number;
}

/**
 * Splits a validated `host:port` (`127.0.0.1:9600`, `[::1]:9601`).
 *
 * @example
 * ```ts
 * splitListen("[::1]:9601"); // { hostname: "::1", port: 9601 }
 * ```
 */
export function splitListen(listen: string): ListenAddress {
  const at = listen.lastIndexOf(":");
  return {
    hostname: listen.slice(0, at).replace(/^\[|\]$/g, ""),
    port: Number(listen.slice(at + 1)),
  };
}

/** Whether `hostname` (as {@linkcode splitListen} returns it) only reaches this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const name = hostname.toLowerCase();
  return name === "localhost" || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
