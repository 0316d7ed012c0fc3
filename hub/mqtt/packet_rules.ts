/**
 * The MQTT 3.1.1 rules a client's SUBSCRIBE and UNSUBSCRIBE must keep, checked on the whole body
 * before it is decoded: a packet id other than 0 (sec. 2.3.1), at least one topic (sec. 3.8.3, sec. 3.10.3),
 * topics that are well-formed UTF-8 without U+0000 (sec. 1.5.3) and not empty (sec. 4.7.3), requested
 * QoS 0-2. (PUBLISH, the hot path, is checked as it is decoded, in mqtt_decoder.ts.)
 */

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Why `bytes` is not a topic name or filter MQTT allows, or undefined. */
export function topicViolation(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return "empty topic (sec. 4.7.3)";
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return "topic is not well-formed UTF-8 (sec. 1.5.3)";
  }
  // U+0000 is forbidden (sec. 1.5.3); a decoder also accepts encoded surrogates as U+FFFD only when
  // not fatal, so a fatal decode has already refused those.
  if (text.includes("\u0000")) return "topic contains U+0000 (sec. 1.5.3)";
  return undefined;
}

function readString(body: Uint8Array, at: number): { bytes: Uint8Array; next: number } | string {
  if (at + 2 > body.length) return "string length runs past the end of the packet";
  const length = body[at]! << 8 | body[at + 1]!;
  if (at + 2 + length > body.length) return "string runs past the end of the packet";
  return { bytes: body.subarray(at + 2, at + 2 + length), next: at + 2 + length };
}

function filtersViolation(name: string, body: Uint8Array, withQos: boolean): string | undefined {
  if (body.length < 2) return `${name} ends before its packet id`;
  if ((body[0]! << 8 | body[1]!) === 0) return `${name} with packet id 0 (sec. 2.3.1)`;
  if (body.length === 2) return `${name} without topics (sec. 3.8.3, sec. 3.10.3)`;
  let at = 2;
  while (at < body.length) {
    const filter = readString(body, at);
    if (typeof filter === "string") return `${name} ${filter}`;
    const bad = topicViolation(filter.bytes);
    if (bad) return `${name} ${bad}`;
    at = filter.next;
    if (withQos) {
      if (at >= body.length) return `${name} ends before a requested QoS`;
      if (body[at]! > 2) return `${name} requests QoS byte ${body[at]} (sec. 3.8.3.1)`;
      at++;
    }
  }
  return undefined;
}

/**
 * Checks a client packet's body, `bytes[at, end)`; types other than SUBSCRIBE and UNSUBSCRIBE
 * pass (without a view of their body made: a PUBACK per delivery).
 */
export function checkPacketBody(
  type: number,
  bytes: Uint8Array,
  at: number,
  end: number,
): string | undefined {
  switch (type) {
    case 8:
      return filtersViolation("SUBSCRIBE", bytes.subarray(at, end), true);
    case 10:
      return filtersViolation("UNSUBSCRIBE", bytes.subarray(at, end), false);
    default:
      return undefined;
  }
}
