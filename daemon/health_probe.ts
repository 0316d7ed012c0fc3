/**
 * Whether a ledge already serves a state dir: GET /v1/health on its management socket, written by
 * hand as one HTTP/1.1 request on the unix socket. `fetch` with a unix-socket client asks the
 * same, but building that client loads Deno's HTTP client and its TLS setup, which a daemon that
 * never fetches would keep resident for good (~1.2 MB of RSS at idle).
 */
import { writeAll } from "../core/write_all.ts";

const REQUEST = new TextEncoder().encode(
  "GET /v1/health HTTP/1.1\r\nHost: ledge\r\nConnection: close\r\n\r\n",
);
/** "HTTP/1.1 200": what the status code needs of the answer. */
const STATUS_LINE_BYTES = 12;

/** Whether a server on `socketPath` answers the health request with a 2xx within `timeoutMs`. */
export async function answersHealth(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: socketPath });
  } catch {
    return false; // no socket, or nobody listening on it
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  // Closing the connection ends a read that waits.
  const timer = setTimeout(close, timeoutMs);
  try {
    await writeAll(conn, REQUEST);
    return /^HTTP\/1\.[01] 2\d\d$/.test(await statusLine(conn));
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    close();
  }
}

/** The first {@linkcode STATUS_LINE_BYTES} of the answer (fewer when it ends before). */
async function statusLine(conn: Deno.UnixConn): Promise<string> {
  const head = new Uint8Array(STATUS_LINE_BYTES);
  let length = 0;
  while (length < head.length) {
    const n = await conn.read(head.subarray(length));
    if (n === null) break;
    length += n;
  }
  return new TextDecoder().decode(head.subarray(0, length));
}
