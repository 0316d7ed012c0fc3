// Message builders shared by the tests of this folder.
import type { Message } from "../iothub/mod.ts";

/** Options of {@link jsonMessage}. */
export interface MessageOptions {
  app?: Record<string, string>;
  system?: Record<string, string | undefined>;
}

/** A module output message with a UTF-8 JSON body, from `sensor`'s output `temp` by default. */
export function jsonMessage(body: unknown, options: MessageOptions = {}): Message {
  return {
    body: new TextEncoder().encode(JSON.stringify(body)),
    appProperties: options.app ?? {},
    systemProperties: {
      connectionDeviceId: "dev1",
      connectionModuleId: "sensor",
      outputName: "temp",
      contentType: "application/json",
      contentEncoding: "utf-8",
      ...options.system,
    },
  };
}

/** A message with raw body bytes and exactly the given properties. */
export function rawMessage(
  body: Uint8Array | string,
  system: Record<string, string | undefined>,
  app: Record<string, string> = {},
): Message {
  return {
    body: typeof body === "string" ? new TextEncoder().encode(body) : body,
    appProperties: app,
    systemProperties: system,
  };
}

/** Telemetry from a leaf device (no module), with a UTF-8 JSON body. */
export function deviceMessage(body: unknown, app: Record<string, string> = {}): Message {
  return rawMessage(JSON.stringify(body), {
    connectionDeviceId: "leaf1",
    contentType: "application/json",
    contentEncoding: "utf-8",
  }, app);
}

/** The body most conformance cases query. */
export const SAMPLE_BODY = {
  machine: { temperature: 30, status: "running", pressure: 1.5 },
  ambient: { temperature: 20.5, humidity: 25 },
  name: "Sensor-01",
  empty: "",
  nothing: null,
  flag: true,
  off: false,
  zero: 0,
  neg: -4,
  text5: "5",
  list: [10, 20, { x: "deep" }],
  nested: { a: { b: { c: 7 } } },
};

/** Application properties most conformance cases read. */
export const SAMPLE_APP = {
  processingPath: "hot",
  severity: "3",
  "my-prop": "x",
  "a.b": "c",
  "-x": "y",
};

/** The message most conformance cases use. */
export const SAMPLE = jsonMessage(SAMPLE_BODY, { app: SAMPLE_APP, system: { messageId: "m-1" } });

/** Encodes text as UTF-16 (little-endian unless `bigEndian`), with an optional BOM. */
export function utf16(text: string, bigEndian = false, bom = false): Uint8Array {
  const bytes: number[] = bom ? (bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]) : [];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (bigEndian) bytes.push(unit >> 8, unit & 0xff);
    else bytes.push(unit & 0xff, unit >> 8);
  }
  return new Uint8Array(bytes);
}

/** Encodes text as UTF-32 (little-endian unless `bigEndian`), with an optional BOM. */
export function utf32(text: string, bigEndian = false, bom = false): Uint8Array {
  const codePoints = [...(bom ? "\ufeff" : ""), ...text].map((ch) => ch.codePointAt(0) ?? 0);
  const view = new DataView(new ArrayBuffer(codePoints.length * 4));
  codePoints.forEach((codePoint, i) => view.setUint32(i * 4, codePoint, !bigEndian));
  return new Uint8Array(view.buffer);
}
