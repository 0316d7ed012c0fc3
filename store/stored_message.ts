/**
 * The message the store keeps: body bytes and the two property bags, as the router hands it over.
 */

/** A message as stored and as `take` returns it. */
export interface StoredMessage {
  /** The payload, byte for byte (at most the hub's `max_message_bytes`, 256 KiB by default). */
  body: Uint8Array;
  /** User properties. */
  appProperties: Record<string, string>;
  /** Properties set by the SDK or the hub (`messageId`, `connectionModuleId`, ...). */
  systemProperties: Record<string, string>;
}

/**
 * What `enqueue` accepts: a {@linkcode StoredMessage}, or the router's `Message`, whose system
 * properties may be undefined (those are not stored). A frozen bag of plain data (all values
 * strings) is checked and kept as it is, shared with the caller; any other bag is copied.
 */
export interface IncomingMessage {
  /** The payload; a view into a larger buffer stores only its own bytes. */
  body: Uint8Array;
  /** User properties. */
  appProperties: Readonly<Record<string, string>>;
  /** System properties; undefined ones are left out. */
  systemProperties: Readonly<Record<string, string | undefined>>;
}
