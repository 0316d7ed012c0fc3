/**
 * Writing every byte of a buffer to a file or a connection: one write may take only a part (a
 * nearly full disk takes what fits, a socket what its buffer holds), and the next one then takes
 * the rest or fails with the reason.
 */

/** Anything with Deno's `write` (a file, a TCP or TLS connection, a link stream). */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

/** Writes all of `bytes` to `target`. */
export async function writeAll(target: ByteSink, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await target.write(bytes.subarray(at));
}
