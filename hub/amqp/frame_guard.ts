/**
 * An incremental scanner of the AMQP byte stream's frame sizes, run on every chunk before rhea
 * reads it: rhea buffers a frame of whatever size its header claims (up to 4 GiB), so a frame
 * larger than the size this hub advertised closes the connection before it is buffered. It reads
 * only the 8-byte protocol headers (`AMQP` + id + version) and each frame's 4-byte size; frame
 * contents are left to rhea.
 */

/** A scanner fed with each chunk read from one connection. */
export interface FrameScanner {
  /** @returns why the stream is refused, or undefined while all is well. */
  push(chunk: Uint8Array): string | undefined;
}

// "AMQP" as the first four bytes of a protocol header.
const A = 0x41, M = 0x4d, Q = 0x51, P = 0x50;
const MIN_FRAME = 8;

/** Creates a scanner refusing frames above `maxFrameBytes` and malformed headers. */
export function createFrameScanner(options: { maxFrameBytes: number }): FrameScanner {
  const head = new Uint8Array(8);
  let headLength = 0;
  let skip = 0;
  return {
    push(chunk) {
      let at = 0;
      while (at < chunk.length) {
        if (skip > 0) {
          const step = Math.min(skip, chunk.length - at);
          skip -= step;
          at += step;
          continue;
        }
        head[headLength++] = chunk[at++]!;
        if (headLength < 4) continue;
        const isProtocolHeader = head[0] === A && head[1] === M && head[2] === Q &&
          head[3] === P;
        if (isProtocolHeader) {
          if (headLength < 8) continue;
          // Protocol ids: 0 AMQP, 2 TLS, 3 SASL; version 1.0.0.
          if (![0, 2, 3].includes(head[4]!) || head[5] !== 1 || head[6] !== 0 || head[7] !== 0) {
            return `unsupported protocol header ${Array.from(head.subarray(4)).join(".")}`;
          }
          headLength = 0;
          continue;
        }
        const size = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
        if (size < MIN_FRAME) return `frame size ${size} is below the minimum of ${MIN_FRAME}`;
        if (size > options.maxFrameBytes) {
          return `frame of ${size} bytes exceeds the negotiated maximum of ${options.maxFrameBytes}`;
        }
        skip = size - 4;
        headLength = 0;
      }
      return undefined;
    },
  };
}
