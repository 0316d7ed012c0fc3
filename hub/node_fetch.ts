/**
 * Serving a fetch-style handler (a hono app) from a node:http(s) server: the HTTPS listener is a
 * node:https server because its TLS context must be swappable in place and it shares the port
 * with the MQTT-over-WebSocket upgrade.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type tls from "node:tls";

/** What the listener knows of the connection a request came on. */
export interface RequestConnection {
  /** Remote address. */
  source: string;
  /** DER of the TLS client certificate (the leaf only), empty without one. */
  peerChain: Uint8Array[];
}

function connectionOf(req: IncomingMessage): RequestConnection {
  const socket = req.socket as tls.TLSSocket;
  const leaf = typeof socket.getPeerCertificate === "function"
    ? socket.getPeerCertificate() as tls.PeerCertificate | undefined
    : undefined;
  return {
    source: socket.remoteAddress ?? "unknown",
    peerChain: leaf?.raw ? [new Uint8Array(leaf.raw)] : [],
  };
}

/** Largest request body accepted. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Turns a node request into a fetch Request (body read fully, bounded). */
async function toRequest(req: IncomingMessage): Promise<Request> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Uint8Array).byteLength;
    if (size > MAX_BODY_BYTES) throw new RangeError("request body too large");
    chunks.push(chunk as Uint8Array);
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) { for (const item of value) headers.append(name, item); }
    else if (value !== undefined) headers.set(name, value);
  }
  const method = req.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : new Blob(chunks as BlobPart[]);
  return new Request(`https://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method,
    headers,
    ...(body ? { body } : {}),
  });
}

/** A node `request` listener that answers with `handler`. */
export function nodeHandler(
  handler: (request: Request, connection: RequestConnection) => Response | Promise<Response>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    (async () => {
      let response: Response;
      try {
        response = await handler(await toRequest(req), connectionOf(req));
      } catch (error) {
        const status = error instanceof RangeError ? 413 : 400;
        response = Response.json({ message: (error as Error).message }, { status });
      }
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => headers[name] = value);
      res.writeHead(response.status, headers);
      // Streamed (a download may be large), waiting for the socket to drain.
      if (response.body) {
        for await (const chunk of response.body) {
          if (!res.write(chunk)) {
            await new Promise((resolve) => {
              res.once("drain", resolve);
              res.once("close", resolve);
            });
          }
          if (res.destroyed) break; // leaving the loop cancels the body
        }
      }
      res.end();
    })().catch(() => res.destroy());
  };
}
