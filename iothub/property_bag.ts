/**
 * IoT Hub property bags: the URL-encoded `k=v&k2=v2` tail of a telemetry, input or C2D topic.
 */

/** A property bag that cannot be decoded. */
export class PropertyBagError extends Error {
  override name = "PropertyBagError";
}

function decodePart(part: string, bag: string): string {
  try {
    return decodeURIComponent(part.replaceAll("+", "%20"));
  } catch (cause) {
    throw new PropertyBagError(`Cannot decode property bag "${bag}": invalid escape in "${part}"`, {
      cause,
    });
  }
}

/**
 * Decodes a property bag into an ordered map. A key without `=` has the value "". Later
 * duplicates win, as in IoT Hub.
 *
 * @throws {PropertyBagError} on an invalid percent escape.
 */
export function parsePropertyBag(bag: string): Map<string, string> {
  const properties = new Map<string, string>();
  if (bag === "") return properties;
  for (const pair of bag.split("&")) {
    if (pair === "") continue;
    const equals = pair.indexOf("=");
    const key = decodePart(equals < 0 ? pair : pair.slice(0, equals), bag);
    const value = equals < 0 ? "" : decodePart(pair.slice(equals + 1), bag);
    if (key !== "") properties.set(key, value);
  }
  return properties;
}

/** Encodes properties as a bag: keys and values percent-encoded, joined with `&`. */
export function formatPropertyBag(properties: Iterable<readonly [string, string]>): string {
  const parts: string[] = [];
  for (const [key, value] of properties) {
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  }
  return parts.join("&");
}
