/**
 * The payload of a direct method request or reply, as IoT Hub reads it from the wire.
 *
 * @module
 */

const decoder = new TextDecoder();

/**
 * A method payload's value: its JSON; text that is not JSON stays text; no bytes are `null`.
 *
 * @example
 * ```ts
 * methodPayload(new TextEncoder().encode('{"ok":true}')); // { ok: true }
 * methodPayload(new TextEncoder().encode("plain")); // "plain"
 * ```
 */
export function methodPayload(body: Uint8Array): unknown {
  const text = decoder.decode(body);
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
