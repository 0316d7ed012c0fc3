/**
 * The SPIFFE Workload API judged by an independent client: python3-grpcio with a hand-written
 * protobuf reader (no code shared with ledge), and openssl for the SVIDs it receives.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type Requirement, serviceTest } from "./_services.ts";
import { certificateText, OPENSSL, opensslVerify, startSecurity } from "./_security.ts";

/** A Python with grpc: Debian's python3-grpcio lives in /usr/bin/python3. */
async function findPython(): Promise<{ requirement: Requirement; path: string }> {
  for (const path of ["/usr/bin/python3", "python3"]) {
    try {
      const { success } = await new Deno.Command(path, {
        args: ["-c", "import grpc"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (success) return { requirement: { what: "python3-grpcio", missing: undefined }, path };
    } catch {
      // try the next one
    }
  }
  return {
    requirement: { what: "python3-grpcio", missing: "python3-grpcio not installed" },
    path: "python3",
  };
}
const PYTHON = await findPython();

const CLIENT = `
import json, sys, grpc

def fields(data):
    """Reads one protobuf message into {field number: [values]}."""
    out, i = {}, 0
    def varint():
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]; i += 1
            value |= (b & 0x7f) << shift
            shift += 7
            if b < 0x80: return value
    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0: value = varint()
        elif wire == 2:
            n = varint(); value = data[i:i + n]; i += n
        else: raise ValueError("unexpected wire type %d" % wire)
        out.setdefault(number, []).append(value)
    return out

def string(s):
    b = s.encode()
    return bytes([len(b)]) + b

def emit(value):
    print(json.dumps(value), flush=True)

socket, mode = sys.argv[1], sys.argv[2]
channel = grpc.insecure_channel("unix:" + socket)
header = [("workload.spiffe.io", "true")]
raw = dict(request_serializer=lambda b: b, response_deserializer=lambda b: b)

if mode == "svids":
    count = int(sys.argv[3])
    stream = channel.unary_stream("/SpiffeWorkloadAPI/FetchX509SVID", **raw)(b"", metadata=header)
    for n, message in enumerate(stream):
        svid = fields(fields(message)[1][0])
        emit({"spiffe_id": svid[1][0].decode(), "chain": svid[2][0].hex(), "key": svid[3][0].hex(), "bundle": svid[4][0].hex(), "count": len(fields(message)[1])})
        if n + 1 == count:
            stream.cancel()
            break
elif mode == "no-header":
    for method in ["FetchX509SVID", "FetchX509Bundles", "FetchJWTBundles"]:
        try:
            next(iter(channel.unary_stream("/SpiffeWorkloadAPI/" + method, **raw)(b"")))
            emit({"method": method, "code": "OK"})
        except grpc.RpcError as error:
            emit({"method": method, "code": error.code().name})
    try:
        channel.unary_unary("/SpiffeWorkloadAPI/FetchJWTSVID", **raw)(b"\\x0a" + string("aud"))
        emit({"method": "FetchJWTSVID", "code": "OK"})
    except grpc.RpcError as error:
        emit({"method": "FetchJWTSVID", "code": error.code().name})
elif mode == "jwt":
    unary = lambda m, body: channel.unary_unary("/SpiffeWorkloadAPI/" + m, **raw)(body, metadata=header)
    reply = fields(unary("FetchJWTSVID", b"\\x0a" + string("service-b")))
    svid = fields(reply[1][0])
    token = svid[2][0].decode()
    emit({"spiffe_id": svid[1][0].decode(), "token": token})
    valid = fields(unary("ValidateJWTSVID", b"\\x0a" + string("service-b") + b"\\x12" + bytes([len(token) & 0x7f | 0x80, len(token) >> 7]) + token.encode()))
    emit({"validated": valid[1][0].decode()})
    for name, body in [("no audience", b""), ("wrong audience", b"\\x0a" + string("service-c") + b"\\x12" + bytes([len(token) & 0x7f | 0x80, len(token) >> 7]) + token.encode())]:
        try:
            unary("FetchJWTSVID" if name == "no audience" else "ValidateJWTSVID", body)
            emit({"case": name, "code": "OK"})
        except grpc.RpcError as error:
            emit({"case": name, "code": error.code().name})
    bundles = channel.unary_stream("/SpiffeWorkloadAPI/FetchJWTBundles", **raw)(b"", metadata=header)
    first = fields(next(iter(bundles)))
    entry = fields(first[1][0])
    emit({"domain": entry[1][0].decode(), "jwks": json.loads(entry[2][0])})
    bundles.cancel()
elif mode == "validate":
    token = sys.argv[3].encode()
    body = b"\\x0a" + string("service-b") + b"\\x12" + bytes([len(token) & 0x7f | 0x80, len(token) >> 7]) + token
    try:
        valid = fields(channel.unary_unary("/SpiffeWorkloadAPI/ValidateJWTSVID", **raw)(body, metadata=header))
        emit({"validated": valid[1][0].decode()})
    except grpc.RpcError as error:
        emit({"code": error.code().name, "details": error.details()})
`;

/** Runs the Python client and hands out its JSON lines as they come. */
function runClient(socket: string, args: string[]) {
  const child = new Deno.Command(PYTHON.path, {
    args: ["-c", CLIENT, socket, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
    new TransformStream<string, string>(
      {
        buffer: "",
        transform(chunk, controller) {
          this.buffer += chunk;
          const parts = this.buffer.split("\n");
          this.buffer = parts.pop()!;
          for (const line of parts) if (line.trim()) controller.enqueue(line);
        },
      } as Transformer<string, string> & { buffer: string },
    ),
  ).getReader();
  const stderr = new Response(child.stderr).text();
  return {
    async next(): Promise<Record<string, unknown>> {
      const { value, done } = await lines.read();
      if (done) throw new Error(`the Python client ended early: ${await stderr}`);
      return JSON.parse(value);
    },
    async finish() {
      await lines.cancel();
      const status = await child.status;
      return { code: status.code, stderr: await stderr };
    },
  };
}

function pem(der: Buffer): string {
  const certs: string[] = [];
  // Split concatenated DER certificates by their outer SEQUENCE lengths.
  for (let offset = 0; offset < der.length;) {
    const lengthByte = der[offset + 1]!;
    const lengthBytes = lengthByte & 0x80 ? lengthByte & 0x7f : 0;
    let length = lengthBytes ? 0 : lengthByte;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + der[offset + 2 + i]!;
    const end = offset + 2 + lengthBytes + length;
    const body = der.subarray(offset, end).toString("base64").match(/.{1,64}/g)!.join("\n");
    certs.push(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`);
    offset = end;
  }
  return certs.join("");
}

serviceTest(
  "an independent gRPC client gets a valid X.509-SVID, then exactly one new message per rotation",
  [PYTHON.requirement, OPENSSL],
  async (t) => {
    const fixture = await startSecurity({ security: "leaf_lifetime_seconds = 60\n" });
    let client: ReturnType<typeof runClient> | undefined;
    try {
      const { manager } = fixture.component;
      const { socketDir } = await manager.provisionModule("sensor");
      const serialOf = () => manager.certificates().find((c) => c.name === "sensor")!.serial;
      client = runClient(`${socketDir}/spiffe.sock`, ["svids", "3"]);
      const first = await client.next();

      await t.step("the first message is a valid SVID for this module", async () => {
        assert.equal(first.spiffe_id, "spiffe://dev1.test/ledge/dev1/sensor");
        assert.equal(first.count, 1);
        const chain = pem(Buffer.from(first.chain as string, "hex"));
        const bundle = pem(Buffer.from(first.bundle as string, "hex"));
        const verified = await opensslVerify(fixture.stateDir, {
          bundlePem: bundle,
          chainPem: chain,
        });
        assert.equal(verified.code, 0, verified.output);
        const text = await certificateText(chain);
        assert.match(
          text,
          /Subject Alternative Name:\s*\n\s*URI:spiffe:\/\/dev1\.test\/ledge\/dev1\/sensor\n/,
        );
        assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
        const keyFile = `${fixture.stateDir}/svid.key.der`;
        await Deno.writeFile(keyFile, Buffer.from(first.key as string, "hex"));
        const { openssl } = await import("./_security.ts");
        const fromKey = await openssl(["pkey", "-inform", "DER", "-in", keyFile, "-pubout"]);
        const fromCert = await openssl(["x509", "-noout", "-pubkey"], chain);
        assert.equal(fromKey.stdout, fromCert.stdout, "x509_svid_key is the SVID's private key");
      });

      await t.step("a rotation at ~2/3 of the 60 s lifetime pushes one new SVID", async () => {
        const before = serialOf();
        const second = await client!.next();
        assert.notEqual(second.chain, first.chain);
        const after = serialOf();
        assert.notEqual(after, before, "the manager rotated the SVID");
        assert.ok(
          (second.chain as string).toUpperCase().includes(after.toUpperCase()),
          "the message carries the new SVID",
        );
      });

      await t.step(
        "unrelated events push nothing; the next rotation pushes exactly one",
        async () => {
          await manager.provisionModule("other");
          await manager.removeModule("other");
          await manager.renew({ ca: false });
          const third = await client!.next();
          assert.ok(
            (third.chain as string).toUpperCase().includes(serialOf().toUpperCase()),
            "the third message is the forced rotation, not a duplicate",
          );
        },
      );
    } finally {
      const result: { code: number; stderr: string } | undefined = await client?.finish();
      await fixture.dispose();
      assert.equal(result?.code, 0, result?.stderr);
    }
  },
);

serviceTest(
  "calls without the workload.spiffe.io header get InvalidArgument",
  [PYTHON.requirement],
  async () => {
    const fixture = await startSecurity();
    try {
      const { socketDir } = await fixture.component.manager.provisionModule("sensor");
      const client = runClient(`${socketDir}/spiffe.sock`, ["no-header"]);
      const codes = [
        await client.next(),
        await client.next(),
        await client.next(),
        await client.next(),
      ];
      const result = await client.finish();
      assert.equal(result.code, 0, result.stderr);
      for (const { method, code } of codes) assert.equal(code, "INVALID_ARGUMENT", String(method));
    } finally {
      await fixture.dispose();
    }
  },
);

serviceTest(
  "JWT-SVIDs: ES256 for the module's SPIFFE ID, validated, audience required, JWKS with kid",
  [PYTHON.requirement],
  async () => {
    const fixture = await startSecurity();
    try {
      const { socketDir } = await fixture.component.manager.provisionModule("sensor");
      const client = runClient(`${socketDir}/spiffe.sock`, ["jwt"]);
      const issued = await client.next();
      const validated = await client.next();
      const noAudience = await client.next();
      const wrongAudience = await client.next();
      const bundle = await client.next();
      const result = await client.finish();
      assert.equal(result.code, 0, result.stderr);
      assert.equal(issued.spiffe_id, "spiffe://dev1.test/ledge/dev1/sensor");
      const [header, payload] = (issued.token as string).split(".").slice(0, 2).map((part) =>
        JSON.parse(Buffer.from(part, "base64url").toString())
      );
      assert.equal(header.alg, "ES256");
      assert.equal(payload.sub, "spiffe://dev1.test/ledge/dev1/sensor");
      assert.deepEqual(payload.aud, ["service-b"]);
      assert.ok(payload.exp - payload.iat <= 300, "short-lived");
      assert.equal(validated.validated, "spiffe://dev1.test/ledge/dev1/sensor");
      assert.equal(noAudience.code, "INVALID_ARGUMENT");
      assert.equal(wrongAudience.code, "INVALID_ARGUMENT");
      assert.equal(bundle.domain, "dev1.test");
      const keys = (bundle.jwks as { keys: { kid: string; use: string; kty: string }[] }).keys;
      assert.equal(keys.length, 1);
      assert.equal(keys[0]!.use, "jwt-svid");
      assert.equal(keys[0]!.kid, header.kid);
      assert.ok(!("d" in keys[0]!), "no private part in the bundle");
    } finally {
      await fixture.dispose();
    }
  },
);

serviceTest(
  "a JWT-SVID of a removed module no longer validates, even before it expires",
  [PYTHON.requirement],
  async () => {
    const fixture = await startSecurity();
    try {
      const { manager } = fixture.component;
      const sensor = await manager.provisionModule("sensor");
      const filter = await manager.provisionModule("filter");
      const issuing = runClient(`${sensor.socketDir}/spiffe.sock`, ["jwt"]);
      const issued = await issuing.next();
      await issuing.finish();
      const token = issued.token as string;
      const before = runClient(`${filter.socketDir}/spiffe.sock`, ["validate", token]);
      assert.equal((await before.next()).validated, "spiffe://dev1.test/ledge/dev1/sensor");
      await before.finish();

      await manager.removeModule("sensor");
      const after = runClient(`${filter.socketDir}/spiffe.sock`, ["validate", token]);
      const answer = await after.next();
      await after.finish();
      assert.equal(answer.code, "INVALID_ARGUMENT", JSON.stringify(answer));
      assert.match(String(answer.details), /sensor was removed/);
    } finally {
      await fixture.dispose();
    }
  },
);
