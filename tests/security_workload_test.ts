/**
 * The IoT Edge workload API over real unix sockets: signing checked against an independent
 * HMAC (openssl), the socket as the caller's identity, bad input answered with 400 naming it.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { serviceTest } from "./_services.ts";
import { OPENSSL, openssl, socketRequest, startSecurity } from "./_security.ts";

const API = "api-version=2018-06-28";

serviceTest(
  "the sign route's digest equals an HMAC-SHA256 computed by openssl",
  [OPENSSL],
  async () => {
    const fixture = await startSecurity();
    try {
      const { manager } = fixture.component;
      const { socketDir, generationId } = await manager.provisionModule("sensor");
      const identity = manager.registry.get("dev1", "sensor")!;
      assert.equal(identity.auth.type, "sas");
      const data = "hub.example%2Fdevices%2Fdev1%2Fmodules%2Fsensor\n1700000000";
      for (const keyId of ["primary", "secondary"] as const) {
        const answer = await socketRequest(
          `${socketDir}/workload.sock`,
          "POST",
          `/modules/sensor/genid/${generationId}/sign?${API}`,
          JSON.stringify({ keyId, algo: "HMACSHA256", data: btoa(data) }),
        );
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const key = keyId === "primary" ? identity.auth.primaryKey : identity.auth.secondaryKey;
        const hexKey = Buffer.from(key, "base64").toString("hex");
        const mac = await openssl([
          "dgst",
          "-sha256",
          "-mac",
          "HMAC",
          "-macopt",
          `hexkey:${hexKey}`,
        ], data);
        assert.equal(mac.code, 0, mac.stderr);
        const hex = mac.stdout.trim().split("= ").at(-1)!;
        const expected = Buffer.from(hex, "hex").toString("base64");
        assert.equal(answer.body.digest, expected, keyId);
      }
    } finally {
      await fixture.dispose();
    }
  },
);

Deno.test("the socket is the caller: other modules and stale generation ids get 403", async () => {
  const fixture = await startSecurity();
  try {
    const { manager } = fixture.component;
    const sensor = await manager.provisionModule("sensor");
    const other = await manager.provisionModule("other");
    const socket = `${sensor.socketDir}/workload.sock`;
    const sign = JSON.stringify({ keyId: "primary", algo: "HMACSHA256", data: btoa("x") });
    const cases: [string, string, string | undefined][] = [
      ["sign as another module", `/modules/other/genid/${other.generationId}/sign?${API}`, sign],
      [
        "identity certificate of another module",
        `/modules/other/certificate/identity?${API}`,
        "{}",
      ],
      [
        "server certificate of another module",
        `/modules/other/genid/${other.generationId}/certificate/server?${API}`,
        JSON.stringify({ commonName: "x" }),
      ],
      ["stale generation id", `/modules/sensor/genid/123/sign?${API}`, sign],
    ];
    for (const [name, path, body] of cases) {
      const answer = await socketRequest(socket, "POST", path, body);
      assert.equal(answer.status, 403, name);
      assert.match(String(answer.body.message), /Cannot serve module/, name);
    }
    // The same requests on the right socket succeed: the 403s came from the socket, not the path.
    const own = await socketRequest(
      `${other.socketDir}/workload.sock`,
      "POST",
      `/modules/other/genid/${other.generationId}/sign?${API}`,
      sign,
    );
    assert.equal(own.status, 200);
    // Ids are case-insensitive, as in IoT Hub.
    const cased = await socketRequest(
      socket,
      "POST",
      `/modules/SENSOR/genid/${sensor.generationId}/sign?${API}`,
      sign,
    );
    assert.equal(cased.status, 200);
  } finally {
    await fixture.dispose();
  }
});

Deno.test("bad requests get 400 naming what is wrong", async () => {
  const fixture = await startSecurity();
  try {
    const { socketDir, generationId } = await fixture.component.manager.provisionModule("sensor");
    const socket = `${socketDir}/workload.sock`;
    const signPath = `/modules/sensor/genid/${generationId}/sign`;
    const cases: [string, string, string | undefined, RegExp][] = [
      ["missing api-version", signPath, "{}", /api-version is missing/],
      [
        "unknown api-version",
        `${signPath}?api-version=2030-01-01`,
        "{}",
        /"2030-01-01" is not supported/,
      ],
      ["malformed JSON", `${signPath}?${API}`, "{keyId:", /not valid JSON/],
      [
        "unknown keyId",
        `${signPath}?${API}`,
        JSON.stringify({ keyId: "tertiary", algo: "HMACSHA256", data: "" }),
        /keyId/,
      ],
      [
        "unknown algorithm",
        `${signPath}?${API}`,
        JSON.stringify({ keyId: "primary", algo: "MD5", data: "" }),
        /algo/,
      ],
      [
        "data not base64",
        `${signPath}?${API}`,
        JSON.stringify({ keyId: "primary", algo: "HMACSHA256", data: "%%%" }),
        /data/,
      ],
      [
        "server certificate without commonName",
        `/modules/sensor/genid/${generationId}/certificate/server?${API}`,
        "{}",
        /commonName/,
      ],
      [
        "expiration in the past",
        `/modules/sensor/certificate/identity?${API}`,
        JSON.stringify({ expiration: "2001-01-01T00:00:00Z" }),
        /in the past/,
      ],
      [
        "expiration not a time",
        `/modules/sensor/certificate/identity?${API}`,
        JSON.stringify({ expiration: "soon" }),
        /expiration/,
      ],
    ];
    for (const [name, path, body, pattern] of cases) {
      const answer = await socketRequest(socket, "POST", path, body);
      assert.equal(answer.status, 400, `${name}: ${JSON.stringify(answer.body)}`);
      assert.match(String(answer.body.message), pattern, name);
    }
    const bundle = await socketRequest(socket, "GET", `/trust-bundle?${API}`);
    assert.equal(bundle.status, 200);
    assert.equal(bundle.body.certificate, fixture.component.manager.trustBundlePem());
  } finally {
    await fixture.dispose();
  }
});

Deno.test("a removed module's sockets disappear and it comes back with a new generation id", async () => {
  const fixture = await startSecurity();
  try {
    const { manager } = fixture.component;
    const first = await manager.provisionModule("sensor");
    assert.ok((await Deno.stat(`${first.socketDir}/workload.sock`)).isSocket);
    assert.ok((await Deno.stat(`${first.socketDir}/spiffe.sock`)).isSocket);
    await manager.removeModule("sensor");
    await assert.rejects(Deno.stat(first.socketDir), Deno.errors.NotFound);
    assert.equal(manager.registry.get("dev1", "sensor"), undefined);
    const second = await manager.provisionModule("sensor");
    assert.notEqual(second.generationId, first.generationId);
    assert.equal((await manager.provisionModule("sensor")).generationId, second.generationId);
    // The old generation id is stale now.
    const answer = await socketRequest(
      `${second.socketDir}/workload.sock`,
      "POST",
      `/modules/sensor/genid/${first.generationId}/sign?${API}`,
      JSON.stringify({ keyId: "primary", algo: "HMACSHA256", data: "" }),
    );
    assert.equal(answer.status, 403);
  } finally {
    await fixture.dispose();
  }
});

Deno.test("provisionModule() refuses ids that are not IoT Hub ids or would name a path", async () => {
  const fixture = await startSecurity();
  try {
    for (const bad of ["..", "a/b", "", "x".repeat(129)]) {
      await assert.rejects(fixture.component.manager.provisionModule(bad), RangeError, bad);
    }
  } finally {
    await fixture.dispose();
  }
});

Deno.test("verifyClientCertificate() accepts a module's identity certificate for that module only", async () => {
  const fixture = await startSecurity();
  try {
    const { manager } = fixture.component;
    const { socketDir } = await manager.provisionModule("sensor");
    await manager.provisionModule("other");
    const answer = await socketRequest(
      `${socketDir}/workload.sock`,
      "POST",
      `/modules/sensor/certificate/identity?${API}`,
      "{}",
    );
    const pem = answer.body.certificate as string;
    const der = Uint8Array.from(
      atob(pem.split("-----")[2]!.replace(/\s+/g, "")),
      (c) => c.charCodeAt(0),
    );
    assert.deepEqual(
      manager.verifyClientCertificate([der], { deviceId: "dev1", moduleId: "sensor" }).ok,
      true,
    );
    const other = manager.verifyClientCertificate([der], { deviceId: "dev1", moduleId: "other" });
    assert.equal(other.ok, false);
    assert.equal(manager.verifyClientCertificate([der], { deviceId: "nobody" }).ok, false);
    assert.equal(
      manager.verifyClientCertificate([new Uint8Array([1, 2, 3])], {
        deviceId: "dev1",
        moduleId: "sensor",
      }).ok,
      false,
    );
    const serverDer = manager.serverTls().certPem;
    const serverBytes = Uint8Array.from(
      atob(serverDer.split("-----")[2]!.replace(/\s+/g, "")),
      (c) => c.charCodeAt(0),
    );
    const asClient = manager.verifyClientCertificate([serverBytes], { deviceId: "dev1" });
    assert.equal(asClient.ok, false, "a server-only certificate is not a client certificate");
  } finally {
    await fixture.dispose();
  }
});

serviceTest(
  "a module gets a server certificate only for names it may claim, never the hub's or another module's",
  [OPENSSL],
  async (t) => {
    const fixture = await startSecurity({ hostname: "gateway-7" });
    try {
      const { manager } = fixture.component;
      const sensor = await manager.provisionModule("sensor");
      await manager.provisionModule("filter");
      const camera = await manager.provisionModule("sensor.cam");
      const request = (socketDir: string, moduleId: string, generationId: string, name: string) =>
        socketRequest(
          `${socketDir}/workload.sock`,
          "POST",
          `/modules/${moduleId}/genid/${generationId}/certificate/server?${API}`,
          JSON.stringify({ commonName: name }),
        );
      const hostCheck = async (pem: string, host: string) =>
        (await openssl(["x509", "-noout", "-checkhost", host], pem)).stdout;

      await t.step("its own name and a name under it: issued, and openssl agrees", async () => {
        for (const name of ["sensor", "Sensor.Plant.Local"]) {
          const answer = await request(sensor.socketDir, "sensor", sensor.generationId, name);
          assert.equal(answer.status, 201, JSON.stringify(answer.body));
          const pem = answer.body.certificate as string;
          assert.match(await hostCheck(pem, name.toLowerCase()), /does match certificate/);
          for (const hub of ["edge.local", "hub.example", "localhost", "gateway-7", "filter"]) {
            assert.match(await hostCheck(pem, hub), /does NOT match certificate/, hub);
          }
          const text = await openssl(["x509", "-noout", "-ext", "subjectAltName"], pem);
          assert.doesNotMatch(text.stdout, /IP Address/, "no IP address SANs");
        }
      });

      await t.step("the hub's names and other modules' names: 403 naming the rule", async () => {
        for (
          const [name, reason] of [
            ["edge.local", /hub's names/],
            ["hub.example", /hub's names/],
            ["localhost", /hub's names/],
            ["gateway-7", /hub's names/],
            ["filter", /only "sensor" and names under it/],
            ["sensor.cam", /belong to module "sensor\.cam"/],
            ["sensor.cam.plant.local", /belong to module "sensor\.cam"/],
          ] as const
        ) {
          const answer = await request(sensor.socketDir, "sensor", sensor.generationId, name);
          assert.equal(answer.status, 403, `${name}: ${JSON.stringify(answer.body)}`);
          assert.match(answer.body.message as string, reason);
        }
      });

      await t.step("IP addresses and wildcards: 400", async () => {
        for (const name of ["127.0.0.1", "*.sensor"]) {
          const answer = await request(sensor.socketDir, "sensor", sensor.generationId, name);
          assert.equal(answer.status, 400, `${name}: ${JSON.stringify(answer.body)}`);
        }
      });

      await t.step("the nested module owns its own name", async () => {
        const answer = await request(
          camera.socketDir,
          "sensor.cam",
          camera.generationId,
          "sensor.cam",
        );
        assert.equal(answer.status, 201, JSON.stringify(answer.body));
        assert.match(
          await hostCheck(answer.body.certificate as string, "sensor.cam"),
          /does match certificate/,
        );
      });
    } finally {
      await fixture.dispose();
    }
  },
);
