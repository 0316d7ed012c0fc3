/**
 * The SPIFFE Workload API for one workload, served by grpc-js on that workload's own unix
 * socket: the socket is the caller's identity. Streams send the current state at once and a new
 * message on each rotation, and only then.
 */
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../core/log.ts";
import { spiffeServiceDefinition, toProtobufStruct } from "./spiffe_proto.ts";

/** The X.509-SVID of the workload, in the wire's encodings. */
export interface X509SvidMaterial {
  spiffeId: string;
  /** DER certificates concatenated, leaf first. */
  certChainDer: Uint8Array;
  /** PKCS#8 DER private key. */
  keyDer: Uint8Array;
  /** DER trust anchors of the workload's trust domain, concatenated. */
  bundleDer: Uint8Array;
}

/** What the server serves, for one workload. */
export interface SpiffeSource {
  readonly trustDomain: string;
  /** The current SVID, or a reason there is none (e.g. an id SPIFFE cannot hold). */
  x509Svid(): X509SvidMaterial | { unavailable: string };
  /** DER trust anchors per trust domain. */
  x509Bundles(): Record<string, Uint8Array>;
  /** JWKS JSON bytes per trust domain. */
  jwtBundles(): Record<string, Uint8Array>;
  signJwt(
    audience: readonly string[],
    spiffeId: string,
  ): Promise<{ spiffeId: string; svid: string }>;
  validateJwt(
    token: string,
    audience: string,
  ): Promise<{ spiffeId: string; claims: Record<string, unknown> }>;
  /** Subscriptions return their unsubscribe function. */
  onSvidChange(listener: () => void): () => void;
  onX509BundleChange(listener: () => void): () => void;
  onJwtBundleChange(listener: () => void): () => void;
}

/** A running server. */
export interface SpiffeServer {
  close(): Promise<void>;
}

type Call = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerUnaryCall<unknown, unknown>;

function headerMissing(call: Call): boolean {
  return !call.metadata.get("workload.spiffe.io").some((value) => String(value) === "true");
}

const MISSING_HEADER = {
  code: grpc.status.INVALID_ARGUMENT,
  details: "Cannot serve the request: security header workload.spiffe.io: true is missing",
};

/**
 * Serves the Workload API on the unix socket `socketPath` (an existing file there is replaced).
 */
export async function serveSpiffeApi(
  socketPath: string,
  options: { source: SpiffeSource; logger: Logger },
): Promise<SpiffeServer> {
  const { source, logger } = options;
  const streams = new Set<grpc.ServerWritableStream<unknown, unknown>>();

  function stream(
    call: grpc.ServerWritableStream<unknown, unknown>,
    current: () => unknown | { error: grpc.ServiceError | Partial<grpc.StatusObject> },
    subscribe: (listener: () => void) => () => void,
  ) {
    if (headerMissing(call)) return void call.emit("error", MISSING_HEADER);
    streams.add(call);
    const send = () => {
      const message = current() as { error?: Partial<grpc.StatusObject> };
      if (message && typeof message === "object" && "error" in message && message.error) {
        call.emit("error", message.error);
        return;
      }
      call.write(message);
    };
    const unsubscribe = subscribe(send);
    const done = () => {
      unsubscribe();
      streams.delete(call);
    };
    call.on("cancelled", done);
    call.on("close", done);
    call.on("error", done);
    send();
  }

  const handlers: grpc.UntypedServiceImplementation = {
    FetchX509SVID(call: grpc.ServerWritableStream<unknown, unknown>) {
      stream(call, () => {
        const svid = source.x509Svid();
        if ("unavailable" in svid) {
          return { error: { code: grpc.status.PERMISSION_DENIED, details: svid.unavailable } };
        }
        return {
          svids: [{
            spiffe_id: svid.spiffeId,
            x509_svid: svid.certChainDer,
            x509_svid_key: svid.keyDer,
            bundle: svid.bundleDer,
            hint: "",
          }],
          crl: [],
          federated_bundles: {},
        };
      }, source.onSvidChange);
    },
    FetchX509Bundles(call: grpc.ServerWritableStream<unknown, unknown>) {
      stream(call, () => ({ crl: [], bundles: source.x509Bundles() }), source.onX509BundleChange);
    },
    FetchJWTBundles(call: grpc.ServerWritableStream<unknown, unknown>) {
      stream(call, () => ({ bundles: source.jwtBundles() }), source.onJwtBundleChange);
    },
    FetchJWTSVID(
      call: grpc.ServerUnaryCall<{ audience: string[]; spiffe_id: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      if (headerMissing(call)) return callback(MISSING_HEADER);
      const { audience, spiffe_id } = call.request;
      if (audience.length === 0) {
        return callback({
          code: grpc.status.INVALID_ARGUMENT,
          details: "Cannot issue a JWT-SVID: audience is required",
        });
      }
      source.signJwt(audience, spiffe_id).then(
        (svid) =>
          callback(null, { svids: [{ spiffe_id: svid.spiffeId, svid: svid.svid, hint: "" }] }),
        (error: Error) =>
          callback({
            code: error instanceof RangeError
              ? grpc.status.PERMISSION_DENIED
              : grpc.status.INVALID_ARGUMENT,
            details: error.message,
          }),
      );
    },
    ValidateJWTSVID(
      call: grpc.ServerUnaryCall<{ audience: string; svid: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      if (headerMissing(call)) return callback(MISSING_HEADER);
      const { audience, svid } = call.request;
      if (!audience) {
        return callback({
          code: grpc.status.INVALID_ARGUMENT,
          details: "Cannot validate: audience is required",
        });
      }
      if (!svid) {
        return callback({
          code: grpc.status.INVALID_ARGUMENT,
          details: "Cannot validate: svid is required",
        });
      }
      source.validateJwt(svid, audience).then(
        (valid) =>
          callback(null, { spiffe_id: valid.spiffeId, claims: toProtobufStruct(valid.claims) }),
        (error: Error) =>
          callback({
            code: grpc.status.INVALID_ARGUMENT,
            details: `Cannot validate the JWT-SVID: ${error.message}`,
          }),
      );
    },
  };

  await Deno.remove(socketPath).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const server = new grpc.Server();
  server.addService(spiffeServiceDefinition(), handlers);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(
      `unix://${socketPath}`,
      grpc.ServerCredentials.createInsecure(),
      (error) => (error ? reject(error) : resolve()),
    )
  );
  await Deno.chmod(socketPath, 0o666);
  logger.debug("SPIFFE Workload API listening", { socket: socketPath });
  return {
    async close() {
      for (const call of streams) call.end();
      streams.clear();
      // Streams ended above; whatever is still open after a grace period is forced closed.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2000);
        server.tryShutdown(() => resolve());
      });
      clearTimeout(timer);
      server.forceShutdown();
      await Deno.remove(socketPath).catch(() => {});
    },
  };
}
