/**
 * The gRPC side of the SPIFFE Workload API for one workload, on grpc-js: loaded only when the
 * workload's socket receives its first connection (spiffe_server.ts), which is then handed to the
 * gRPC server. Streams send the current state at once and a new message on each rotation, and
 * only then.
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import { spiffeServiceDefinition, toProtobufStruct } from "./spiffe_proto.ts";
import type { SpiffeSource } from "./spiffe_source.ts";

type Call = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerUnaryCall<unknown, unknown>;

function headerMissing(call: Call): boolean {
  return !call.metadata.get("workload.spiffe.io").some((value) => String(value) === "true");
}

const MISSING_HEADER = {
  code: grpc.status.INVALID_ARGUMENT,
  details: "Cannot serve the request: security header workload.spiffe.io: true is missing",
};

/** A gRPC server for one workload that takes connections accepted elsewhere. */
export interface SpiffeService {
  /** Serves `conn` (a connection accepted on the workload's socket). */
  serve(conn: Deno.Conn): void;
  /** Ends the streams, then closes every connection (forced after 2 s). */
  close(): Promise<void>;
}

/** A Deno connection as the Node stream grpc-js's HTTP/2 server reads and writes. */
function duplexOf(conn: Deno.Conn): Duplex {
  const reader = conn.readable.getReader();
  const writer = conn.writable.getWriter();
  return new Duplex({
    read() {
      reader.read().then(
        ({ value, done }) => this.push(done ? null : Buffer.from(value)),
        (error) => this.destroy(error),
      );
    },
    write(chunk, _encoding, callback) {
      writer.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      writer.close().then(() => callback(), callback);
    },
    destroy(error, callback) {
      try {
        conn.close();
      } catch {
        // closed already
      }
      callback(error);
    },
  });
}

type Stream = grpc.ServerWritableStream<unknown, unknown>;
type Failure = { error: Partial<grpc.StatusObject> };

/**
 * Answers a streaming call: the current message now, and again on each change `subscribe`
 * reports, until the client goes (or a message is a failure, which ends the call).
 */
function streamTo(
  streams: Set<Stream>,
  call: Stream,
  current: () => unknown,
  subscribe: (listener: () => void) => () => void,
): void {
  if (headerMissing(call)) return void call.emit("error", MISSING_HEADER);
  streams.add(call);
  const send = () => {
    const message = current() as Partial<Failure>;
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

function x509SvidMessage(source: SpiffeSource): unknown {
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
}

function fetchJwtSvid(
  source: SpiffeSource,
  call: grpc.ServerUnaryCall<{ audience: string[]; spiffe_id: string }, unknown>,
  callback: grpc.sendUnaryData<unknown>,
): void {
  if (headerMissing(call)) return callback(MISSING_HEADER);
  const { audience, spiffe_id } = call.request;
  if (audience.length === 0) {
    return callback({
      code: grpc.status.INVALID_ARGUMENT,
      details: "Cannot issue a JWT-SVID: audience is required",
    });
  }
  source.signJwt(audience, spiffe_id).then(
    (svid) => callback(null, { svids: [{ spiffe_id: svid.spiffeId, svid: svid.svid, hint: "" }] }),
    (error: Error) =>
      callback({
        code: error instanceof RangeError
          ? grpc.status.PERMISSION_DENIED
          : grpc.status.INVALID_ARGUMENT,
        details: error.message,
      }),
  );
}

function validateJwtSvid(
  source: SpiffeSource,
  call: grpc.ServerUnaryCall<{ audience: string; svid: string }, unknown>,
  callback: grpc.sendUnaryData<unknown>,
): void {
  if (headerMissing(call)) return callback(MISSING_HEADER);
  const { audience, svid } = call.request;
  for (const [field, value] of [["audience", audience], ["svid", svid]] as const) {
    if (!value) {
      return callback({
        code: grpc.status.INVALID_ARGUMENT,
        details: `Cannot validate: ${field} is required`,
      });
    }
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
}

/** The five RPCs of `SpiffeWorkloadAPI` for `source`; open streams are kept in `streams`. */
function spiffeHandlers(
  source: SpiffeSource,
  streams: Set<Stream>,
): grpc.UntypedServiceImplementation {
  return {
    FetchX509SVID: (call: Stream) =>
      streamTo(streams, call, () => x509SvidMessage(source), source.onSvidChange),
    FetchX509Bundles: (call: Stream) =>
      streamTo(
        streams,
        call,
        () => ({ crl: [], bundles: source.x509Bundles() }),
        source.onX509BundleChange,
      ),
    FetchJWTBundles: (call: Stream) =>
      streamTo(streams, call, () => ({ bundles: source.jwtBundles() }), source.onJwtBundleChange),
    FetchJWTSVID: (
      call: grpc.ServerUnaryCall<{ audience: string[]; spiffe_id: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => fetchJwtSvid(source, call, callback),
    ValidateJWTSVID: (
      call: grpc.ServerUnaryCall<{ audience: string; svid: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => validateJwtSvid(source, call, callback),
  };
}

/** Creates the gRPC server of the workload `source` describes. */
export function createSpiffeService(source: SpiffeSource): SpiffeService {
  const streams = new Set<Stream>();
  const server = new grpc.Server();
  server.addService(spiffeServiceDefinition(), spiffeHandlers(source, streams));
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    serve: (conn) => injector.injectConnection(duplexOf(conn)),
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
      injector.destroy();
      server.forceShutdown();
    },
  };
}
