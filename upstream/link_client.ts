/**
 * One attempt's MQTT client, as {@linkcode UpstreamConnection} drives it: ledge's own over
 * `Deno.connectTls` for `mqtts` (native TLS, one write per turn), mqtt.js for `wss`.
 *
 * @module
 */
import type { ConnectSettings } from "./connect_settings.ts";

/** What a client tells its connection. */
export interface LinkHandlers {
  /** The parent accepted CONNECT. */
  connected(): void;
  /** What went wrong; `closed` follows. */
  error(error: unknown): void;
  /** The client is closed, for whatever reason; called once. */
  closed(): void;
  /**
   * An incoming PUBLISH. When it returns a promise, the PUBACK (and the next incoming PUBLISH)
   * waits for it; a rejection drops the link without the PUBACK.
   */
  message(topic: string, payload: Uint8Array): void | Promise<void>;
}

/** How a client connects. */
export interface LinkOptions {
  connectTimeoutMs: number;
  keepaliveSeconds: number;
}

/** A client of one attempt. */
export interface LinkClient {
  /**
   * Publishes; `done` runs once, on PUBACK (QoS 1) or once queued (QoS 0), or with the error
   * when the client closes first.
   */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1, done: (error?: Error) => void): void;
  /** Subscribes to each filter at QoS 1; resolves with the return code of each (128: refused). */
  subscribe(filters: readonly string[]): Promise<number[]>;
  /** Closes at once (no DISCONNECT); pending publishes fail; `closed` follows. */
  end(): void;
  /** `end`, resolving once the socket is closed. */
  endAsync(): Promise<void>;
}

/** Starts a client's attempt. */
export type LinkClientFactory = (
  settings: ConnectSettings,
  options: LinkOptions,
  handlers: LinkHandlers,
) => LinkClient;
