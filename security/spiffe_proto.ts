/**
 * The SPIFFE Workload API definition, embedded as text so the bundle and the binary carry it
 * (no file is read at run time). Field numbers follow the SPIFFE standard; the service has no
 * package, so its paths are `/SpiffeWorkloadAPI/<Method>`.
 */
import type { ServiceDefinition } from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import protobuf from "protobufjs";

/** The Workload API in proto3. */
export const SPIFFE_WORKLOAD_PROTO = `
syntax = "proto3";

import "google/protobuf/struct.proto";

message X509SVIDRequest {}

message X509SVIDResponse {
  repeated X509SVID svids = 1;
  repeated bytes crl = 2;
  map<string, bytes> federated_bundles = 3;
}

message X509SVID {
  string spiffe_id = 1;
  bytes x509_svid = 2;
  bytes x509_svid_key = 3;
  bytes bundle = 4;
  string hint = 5;
}

message X509BundlesRequest {}

message X509BundlesResponse {
  repeated bytes crl = 1;
  map<string, bytes> bundles = 2;
}

message JWTSVIDRequest {
  repeated string audience = 1;
  string spiffe_id = 2;
}

message JWTSVIDResponse {
  repeated JWTSVID svids = 1;
}

message JWTSVID {
  string spiffe_id = 1;
  string svid = 2;
  string hint = 3;
}

message JWTBundlesRequest {}

message JWTBundlesResponse {
  map<string, bytes> bundles = 1;
}

message ValidateJWTSVIDRequest {
  string audience = 1;
  string svid = 2;
}

message ValidateJWTSVIDResponse {
  string spiffe_id = 1;
  google.protobuf.Struct claims = 2;
}

service SpiffeWorkloadAPI {
  rpc FetchX509SVID(X509SVIDRequest) returns (stream X509SVIDResponse);
  rpc FetchX509Bundles(X509BundlesRequest) returns (stream X509BundlesResponse);
  rpc FetchJWTSVID(JWTSVIDRequest) returns (JWTSVIDResponse);
  rpc FetchJWTBundles(JWTBundlesRequest) returns (stream JWTBundlesResponse);
  rpc ValidateJWTSVID(ValidateJWTSVIDRequest) returns (ValidateJWTSVIDResponse);
}
`;

let cached: ServiceDefinition | undefined;

/** The grpc-js service definition of `SpiffeWorkloadAPI`, parsed once. */
export function spiffeServiceDefinition(): ServiceDefinition {
  if (cached) return cached;
  const root = new protobuf.Root();
  // The standard's only import is a well-known type protobufjs ships as JSON.
  const struct = protobuf.common.get("google/protobuf/struct.proto");
  if (!struct?.nested) throw new Error("Cannot load google/protobuf/struct.proto from protobufjs");
  root.addJSON(struct.nested);
  protobuf.parse(SPIFFE_WORKLOAD_PROTO, root, { keepCase: true });
  root.resolveAll();
  const definition = fromJSON(root.toJSON(), {
    keepCase: true,
    longs: String,
    defaults: true,
  });
  cached = definition.SpiffeWorkloadAPI as unknown as ServiceDefinition;
  return cached;
}

/** A JSON value as a `google.protobuf.Value` message object. */
export function toProtobufValue(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return { nullValue: "NULL_VALUE" };
  if (typeof value === "number") return { numberValue: value };
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toProtobufValue) } };
  return { structValue: toProtobufStruct(value as Record<string, unknown>) };
}

/** A JSON object as a `google.protobuf.Struct` message object. */
export function toProtobufStruct(object: Record<string, unknown>): Record<string, unknown> {
  return {
    fields: Object.fromEntries(
      Object.entries(object).map(([key, value]) => [key, toProtobufValue(value)]),
    ),
  };
}
