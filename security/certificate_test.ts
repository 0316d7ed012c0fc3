import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded_random.ts";
import { Certificate, EKU_OID, KEY_USAGE } from "./certificate.ts";
import { createIssuingCa, createRootCa, issueLeaf } from "./certificate_builder.ts";
import { DerError } from "./der.ts";
import { generateKeyPair, pemBlocks } from "./keys.ts";

const NOW = new Date("2030-06-01T00:00:00Z");

function chain() {
  const rootKeys = generateKeyPair();
  const root = createRootCa({
    commonName: "root",
    lifetimeDays: 10,
    now: NOW,
    keys: rootKeys,
  });
  const edgeKeys = generateKeyPair();
  const edge = createIssuingCa({
    cert: root,
    privateKey: rootKeys.privateKey,
    intermediates: [],
  }, {
    commonName: "edge",
    lifetimeDays: 5,
    now: NOW,
    publicKey: edgeKeys.publicKey,
    trustDomain: "td.example",
  });
  const leafKeys = generateKeyPair();
  const leaf = issueLeaf({ cert: edge, privateKey: edgeKeys.privateKey, intermediates: [] }, {
    profile: "svid",
    commonName: "sensor",
    publicKey: leafKeys.publicKey,
    lifetimeSeconds: 3600,
    now: NOW,
    spiffeId: "spiffe://td.example/ledge/dev/sensor",
    dnsNames: ["sensor.local"],
    ipAddresses: ["127.0.0.1", "::1", "fe80::1:2"],
  });
  return { root, edge, leaf };
}

Deno.test("certificates built here read back with every field and extension", () => {
  const { root, edge, leaf } = chain();
  assert.equal(root.subject, "CN=root, O=ledge");
  assert.equal(root.issuer, root.subject);
  assert.deepEqual(root.basicConstraints, { ca: true, pathLength: undefined });
  assert.deepEqual(edge.basicConstraints, { ca: true, pathLength: 0 });
  assert.deepEqual(edge.keyUsage, [KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]);
  assert.ok(edge.extension("2.5.29.30")?.critical, "name constraints, critical");
  assert.equal(leaf.commonName, "sensor");
  assert.equal(leaf.issuer, "CN=edge, O=ledge");
  assert.deepEqual(leaf.basicConstraints, { ca: false, pathLength: undefined });
  assert.deepEqual(leaf.keyUsage, [KEY_USAGE.digitalSignature]);
  assert.deepEqual(leaf.extendedKeyUsage, [EKU_OID.serverAuth, EKU_OID.clientAuth]);
  assert.deepEqual(leaf.subjectAltNames, [
    { type: "uri", value: "spiffe://td.example/ledge/dev/sensor" },
    { type: "dns", value: "sensor.local" },
    { type: "ip", value: "127.0.0.1" },
    { type: "ip", value: "0:0:0:0:0:0:0:1" },
    { type: "ip", value: "fe80:0:0:0:0:0:1:2" },
  ]);
  assert.equal(leaf.notAfter.getTime() - NOW.getTime(), 3600_000);
  assert.match(leaf.serialNumber, /^[0-9a-f]{32}$/);
});

Deno.test("isIssuedBy() checks the name and the signature", () => {
  const { root, edge, leaf } = chain();
  const other = chain();
  assert.ok(root.isSelfSigned());
  assert.ok(edge.isIssuedBy(root));
  assert.ok(leaf.isIssuedBy(edge));
  assert.ok(!leaf.isIssuedBy(root), "wrong issuer name");
  assert.ok(!leaf.isIssuedBy(other.edge), "same name, another key");
  assert.ok(!edge.isSelfSigned());
});

// Made with openssl (no key is kept): two RSA self-signed certificates with the same name; two
// with P-384 keys signing with ecdsa-with-SHA256 (not a P-256 key: checkIssuedBy's fallback), same
// name too; and a P-256 one whose signature's s is 31 bytes long.
const RSA_A = `-----BEGIN CERTIFICATE-----
MIIDBTCCAe2gAwIBAgIUaOOEuXEBZ+yBKuI54w2meolI0hcwDQYJKoZIhvcNAQEL
BQAwEjEQMA4GA1UEAwwHZml4dHVyZTAeFw0yNjEyMDMwMDI0NDdaFw0zNjExMzAw
MDI0NDdaMBIxEDAOBgNVBAMMB2ZpeHR1cmUwggEiMA0GCSqGSIb3DQEBAQUAA4IB
DwAwggEKAoIBAQCyXiNEhwXALzujEcZhQsFCFqRnQt//LUf9PVBmMt8UV1KaqUU2
sLzRzDq9WP5EBdeAFeGQzuuAYyQPFmIq8Fdi9mKekNgXgbxOMOeNf9ojuUHegAMb
8+wmi9IAGGjD9+kyXzYJPswcZao82OxMx8IbqrBKjQipes+JDsAQeAw75C4mGiEF
7S+4NkZXjoKR+21efswszBYD/qi7ut3aEZkaG2kgILOC/KIkZtnBweSX0yoFtdzb
X4WdB/xSaEYNn66YSi+7TpAAXg9Tkp3OLoks0wnYj6zka8xfo0EwfoXWq7eOasd1
ykNHJVLgaQu+D2qU6R3Gg13zc7giHSgJOzcJAgMBAAGjUzBRMB0GA1UdDgQWBBRn
KLWQZ1yM0Q60nNH9QDkIusSFIDAfBgNVHSMEGDAWgBRnKLWQZ1yM0Q60nNH9QDkI
usSFIDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQAU9wEdirNl
LkjIELC9Cokc+vwls6Z39H9WPoudjnEOGXbvwYvlVv7Xx2Argc7MRsm/pAwl5vKR
ojP3TRGZ2JboBc1aceD3AalH51qqTVYbF+BtUkf8a4zRhJLzYpasqOOFCqdUInok
qsro7WCiUYoKoDH9nVYY4MMf6W0xZwRHQH7zS0dLTfciE5B5ItmIzFAa5GKARtr2
WfwsxY12fk3qUMPffKrrD0w2sYZGoVJ8LOESjQLsfZn/wmjzroU+F4TQVTWV7s7M
xlf1VbrcHI4CXm5s6hfB29T8Eq90eW7M5EfW2eiGoth9+OzMPMqvgFQaZ4n4ePmU
2SLzF3BepR+C
-----END CERTIFICATE-----`;
const RSA_B = `-----BEGIN CERTIFICATE-----
MIIDBTCCAe2gAwIBAgIUcRhPi2IfMw5FhHEZmcCMAVw/uCMwDQYJKoZIhvcNAQEL
BQAwEjEQMA4GA1UEAwwHZml4dHVyZTAeFw0yNjEyMDMwMDI0NDhaFw0zNjExMzAw
MDI0NDhaMBIxEDAOBgNVBAMMB2ZpeHR1cmUwggEiMA0GCSqGSIb3DQEBAQUAA4IB
DwAwggEKAoIBAQDs5lZtsMQswrbbtSo82felYwOXhSezE9ojQ0Z0JThB967u2X3O
KLl+EQ0kt9J0FQ1CSS1aCv2EEOjrYx7LCVwoCJNrN04fypiQA44Qg4hNBZNftNoj
r/gxJ0tKXV4waL7UPVroeOaBGGDNOQN2KeFVffqMI6WX1Z4t4HgiI4bciQBWuSec
zGYl1TfV0fJ3H4yOPuiw+luGzm66WnAOvo7X5fDuDP8Nimz7FH1EK0oMxJ8AycML
1qKpWpS8bd+ZmMabJ74LePcke3SEJHls4539qMO5UyOVlACfWFUSSMGUVT3IaMjl
Rltc4y3hLpSOn7VyZVfFU2wB9r20kjHoVJhzAgMBAAGjUzBRMB0GA1UdDgQWBBTh
rMMta5XQiUbz/Z2IwKKdp+VErjAfBgNVHSMEGDAWgBThrMMta5XQiUbz/Z2IwKKd
p+VErjAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQCsmt1FukcV
NiKrVuWuIcsgP4EgE4t9mMUFllrnhTZoBAZu/FwPX5VOFHJKgPoxmbEKV74PgXPu
RtChprp2HcUnVgxttcPMamf+okjjqRXbBhN6gO93iE8sugRxr2nwVDwN5PAAUPr6
Rqq6KcVn0JThMoxrnGKQk/JFvBkXfNANUVA0Fk19FOmod6HXhNGsbUC7q2M1k4rr
URRa+M+4wEZgQXkNHE2mZBmqTYq1h8nKdLKqotXsi0R46OVbKkkJ3Ei6ucHRpsdm
wJj8wIUgcL68cdztT8sHzKBc/SNPLOO5fDB0aFQuB7ZExP94BxCPTHQQTGp7lMbj
FTFCrvPADBt2
-----END CERTIFICATE-----`;
const P384_A = `-----BEGIN CERTIFICATE-----
MIIBsDCCATagAwIBAgIUWWcwfmQkyuELUj3GfbkvVfkvRoIwCgYIKoZIzj0EAwIw
DzENMAsGA1UEAwwEcDM4NDAeFw0yNjEyMDMwMDI0NDhaFw0zNjExMzAwMDI0NDha
MA8xDTALBgNVBAMMBHAzODQwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAAR46+ASdzLs
vAGfr+3A6oRd5g630DmvydqtOltgD3HnjXT/iypLGX/3HiVXVfOraX4QUZav1Q7Y
v5+GQvyBEo/XgXLLVhn1lgPXPxNKYxWNKIcwX1m82i7abOB201y9zLijUzBRMB0G
A1UdDgQWBBSnipFK/EQXVhYo5JN5r3rdV5u9hjAfBgNVHSMEGDAWgBSnipFK/EQX
VhYo5JN5r3rdV5u9hjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA2gAMGUC
MQC9aKR1olcqWX9hIcGKw63DzxI+hgVMQkxNPgVpoP7llmvUE+QswhN3wo1+g3Sx
QlECMGMWJWrXY77IHhc6MOI/nWdNaXRw+KzJ6QMaHCsNEOW5zvGIWzl4u659V438
lokMYg==
-----END CERTIFICATE-----`;
const P384_B = `-----BEGIN CERTIFICATE-----
MIIBsDCCATagAwIBAgIUWJCGdacWNydUH3ZXJlQhEjUHWBgwCgYIKoZIzj0EAwIw
DzENMAsGA1UEAwwEcDM4NDAeFw0yNjEyMDMwMDI1MzdaFw0zNjExMzAwMDI1Mzda
MA8xDTALBgNVBAMMBHAzODQwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAATxosDgYxJi
4/DKFUlZpgRlonHnNXRVp0bc/zOWvqMKGQHgi0Cq9WSHW7QVofhRqqtNpG8nq1L+
EkLXJ9QaMbDAHxZniNaxPF7aK/l1dqAFO1Xd/lLBwLjRu2YxTcQAS/+jUzBRMB0G
A1UdDgQWBBSz05IbYEEs5Lvfw9ciJmSCEnVJWTAfBgNVHSMEGDAWgBSz05IbYEEs
5Lvfw9ciJmSCEnVJWTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA2gAMGUC
MBhM10xygMoeiX7sjcFX4I8qT5FTWrPT0CEffNSgegW/oEpTNHmA7ffAkEtR8TGf
0AIxAMnse2KeKoG16kX/9XQf18X5l7AoHlz149KB5qSHYSG0HzjmWK36CusSgOSp
iAjHgw==
-----END CERTIFICATE-----`;
const P256_SHORT_S = `-----BEGIN CERTIFICATE-----
MIIBdDCCARugAwIBAgIUacgtVCZZ2hbGRdR+dIN4oUxmvzwwCgYIKoZIzj0EAwIw
EDEOMAwGA1UEAwwFc2hvcnQwHhcNMjYxMjAzMDAyNjQzWhcNMzYxMTMwMDAyNjQz
WjAQMQ4wDAYDVQQDDAVzaG9ydDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAfc
mr2ZmhR7400RL0054tEEL0yJZbnHAr1h7icWP0xTaDDZXoqMF8TwPJuadIOD5zOg
Wd6OiQ5s+sHOxfn8IL6jUzBRMB0GA1UdDgQWBBRlPAeBOACmKdcdHVV9CuzI0Klt
8TAfBgNVHSMEGDAWgBRlPAeBOACmKdcdHVV9CuzI0Klt8TAPBgNVHRMBAf8EBTAD
AQH/MAoGCCqGSM49BAMCA0cAMEQCIQDL6+ESJw/o98h7K6E8heJZQdr7K6bYyklG
iqE7ukiFbAIfPz/l2eUFfd0p3939k+gOE4b6QwqD9JuiKS1iw9XfNQ==
-----END CERTIFICATE-----`;

function fixture(text: string): Certificate {
  return new Certificate(pemBlocks(text)[0]!.der);
}

Deno.test("checkIssuedBy() answers as isIssuedBy() for ledge's P-256 chain", () => {
  const { root, edge, leaf } = chain();
  const other = chain();
  const cases: [Certificate, Certificate, boolean][] = [
    [root, root, true],
    [edge, root, true],
    [leaf, edge, true],
    [leaf, root, false], // wrong issuer name
    [leaf, other.edge, false], // same name, another key
    [edge, edge, false],
  ];
  for (const [cert, issuer, expected] of cases) {
    assert.equal(
      cert.checkIssuedBy(issuer),
      expected,
      `${cert.subject} by ${issuer.subject}`,
    );
    assert.equal(cert.isIssuedBy(issuer), expected, `${cert.subject} by ${issuer.subject}`);
  }
  assert.ok(root.checkSelfSigned());
  assert.ok(!edge.checkSelfSigned());
});

Deno.test("checkIssuedBy() refuses a certificate whose signed part or signature changed", () => {
  const { edge, leaf } = chain();
  const der = leaf.der;
  // The serial (in the signed part) and the signature's last byte.
  for (const at of [der.indexOf(0x02, 8) + 5, der.length - 1]) {
    const changed = new Uint8Array(der);
    changed[at]! ^= 0x01;
    const damaged = new Certificate(changed);
    assert.equal(damaged.checkIssuedBy(edge), false, `byte ${at}`);
    assert.equal(damaged.isIssuedBy(edge), false, `byte ${at}`);
  }
});

Deno.test("checkIssuedBy() checks RSA and other curves through node:crypto", () => {
  const rsaA = fixture(RSA_A);
  const rsaB = fixture(RSA_B);
  const p384A = fixture(P384_A);
  const p384B = fixture(P384_B);
  for (const cert of [rsaA, rsaB, p384A, p384B]) assert.ok(cert.checkSelfSigned());
  assert.equal(rsaA.checkIssuedBy(rsaB), false, "same name, another RSA key");
  assert.equal(p384A.checkIssuedBy(p384B), false, "same name, another P-384 key");
});

Deno.test("checkIssuedBy() takes a signature whose r or s is shorter than 32 bytes", () => {
  const short = fixture(P256_SHORT_S);
  assert.ok(short.isSelfSigned());
  assert.ok(short.checkSelfSigned());
});

Deno.test("a damaged certificate is refused with a DerError, never a crash (bounded, seeded)", () => {
  const { leaf } = chain();
  const random = seededRandom(42);
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const damaged = leaf.der.slice(0, 1 + Math.floor(random() * leaf.der.length));
    for (let flips = 0; flips < 3; flips++) {
      damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
    }
    try {
      const parsed = new Certificate(damaged);
      void parsed.subjectAltNames,
        parsed.basicConstraints,
        parsed.keyUsage,
        parsed.extendedKeyUsage;
    } catch (error) {
      assert.ok(error instanceof TypeError, `${error}`);
      refused++;
    }
  }
  assert.ok(refused > 1000, `most damaged inputs are refused (${refused})`);
  assert.throws(() => new Certificate(new Uint8Array([0x30, 0])), DerError);
});
