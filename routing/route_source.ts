/**
 * The FROM clause: which sources a route accepts, and how a message source path matches.
 *
 * IoT Edge (`CustomMessageSource`, `BaseMessageSource`) trims a trailing `*`, then trailing
 * `/`, appends one `/`, and matches message sources by case-insensitive prefix. So
 * `/messages/modules/a/outputs/t` matches output `t` of module `a` but not output `t2`.
 *
 * IoT Edge accepts any path here; ledge accepts only the documented shapes, so a typo such
 * as `/mesages/*` is an error instead of a route that never fires. A `*` must be a whole last
 * segment: IoT Edge reads `/messages/modules/sensor*` as exactly module `sensor`, not as a
 * glob, so ledge rejects it rather than surprise.
 *
 * @module
 */

/** A validated route source. */
export interface RouteSource {
  /** The path as written in the route. */
  readonly text: string;
  /** Lower-cased, with exactly one trailing `/`: the prefix message sources must start with. */
  readonly prefix: string;
}

/** The source forms a route may use, for error messages. */
export const ACCEPTED_SOURCES = "/*, /messages/*, /messages/events, /messages/modules/*, " +
  "/messages/modules/<moduleId>/*, /messages/modules/<moduleId>/outputs/*, " +
  "/messages/modules/<moduleId>/outputs/<output> or /twinChangeNotifications";

/** Parses a FROM path; undefined when it is not one of {@link ACCEPTED_SOURCES}. */
export function parseRouteSource(text: string): RouteSource | undefined {
  if (!text.startsWith("/")) return undefined;
  let path = text;
  if (path.endsWith("*")) {
    if (!path.endsWith("/*")) return undefined;
    path = path.slice(0, -1);
  }
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  const segments = path === "/" ? [] : path.slice(1).split("/");
  if (!segments.every((segment) => segment.length > 0 && !segment.includes("*"))) return undefined;
  if (!isKnownShape(segments.map((segment) => segment.toLowerCase()))) return undefined;
  return { text, prefix: normalizeSource(path) };
}

function isKnownShape(segments: readonly string[]): boolean {
  const [first, second, , fourth] = segments;
  switch (segments.length) {
    case 0:
      return true;
    case 1:
      return first === "messages" || first === "twinchangenotifications";
    case 2:
      return first === "messages" && (second === "events" || second === "modules");
    case 3:
      return first === "messages" && second === "modules";
    case 4:
    case 5:
      return first === "messages" && second === "modules" && fourth === "outputs";
    default:
      return false;
  }
}

/**
 * A message source path in the form {@link RouteSource.prefix} is compared with: lower-cased
 * with exactly one trailing `/`.
 */
export function normalizeSource(source: string): string {
  let lower = source.trim().toLowerCase();
  while (lower.endsWith("/")) lower = lower.slice(0, -1);
  return lower + "/";
}

/** Whether a route source accepts a message whose source was normalised by {@link normalizeSource}. */
export function sourceMatches(source: RouteSource, normalizedMessageSource: string): boolean {
  return normalizedMessageSource.startsWith(source.prefix);
}
