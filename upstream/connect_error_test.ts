import assert from "node:assert/strict";
import { describeConnectError } from "./connect_error.ts";

function coded(message: string, code: unknown): Error {
  return Object.assign(new Error(message), { code });
}

Deno.test("describeConnectError() reads CONNACK 4 and 5 as refused credentials", () => {
  for (const code of [4, 5]) {
    const failure = describeConnectError(coded("Connection refused", code), "p:8883 as c");
    assert.equal(failure.kind, "auth");
    assert.match(failure.message, new RegExp(`^Cannot connect to p:8883 as c: .*CONNACK ${code}`));
  }
});

Deno.test("describeConnectError() points an untrusted certificate at upstream.ca_file", () => {
  const failure = describeConnectError(
    coded("unable to verify the first certificate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
    "p:8883 as c",
  );
  assert.equal(failure.kind, "tls");
  assert.match(failure.message, /upstream\.ca_file/);
  const deno = describeConnectError(
    new Error("invalid peer certificate: UnknownIssuer"),
    "p:8883 as c",
  );
  assert.equal(deno.kind, "tls");
});

Deno.test("describeConnectError() keeps a refused TCP connection as a network failure", () => {
  const failure = describeConnectError(
    coded("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED"),
    "x",
  );
  assert.deepEqual(failure, {
    kind: "network",
    message: "Cannot connect to x: connect ECONNREFUSED 127.0.0.1:1",
  });
});
