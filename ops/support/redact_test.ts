import assert from "node:assert/strict";
import { parseConfigText } from "../../core/config_load.ts";
import { redactConfig, REDACTED, scrubSecrets } from "./redact.ts";

const context = { uid: 1000, hostname: "test", env: {} };

Deno.test("redactConfig() replaces the upstream SAS key and keeps key paths", () => {
  const config = parseConfigText(
    `[upstream]\nshared_access_key = "c2VjcmV0LWtleQ=="\ncert_file = "/etc/ledge/c.pem"\nkey_file = "/etc/ledge/k.pem"`,
    context,
  );
  const redacted = redactConfig(config);
  assert.equal(redacted.upstream.shared_access_key, REDACTED);
  assert.equal(redacted.upstream.key_file, "/etc/ledge/k.pem");
  assert.equal(redacted.upstream.cert_file, "/etc/ledge/c.pem");
  assert.equal(config.upstream.shared_access_key, "c2VjcmV0LWtleQ==", "the input is not changed");
});

Deno.test("redactConfig() leaves an empty key empty, so the bundle shows none was set", () => {
  assert.equal(redactConfig(parseConfigText("", context)).upstream.shared_access_key, "");
});

Deno.test("scrubSecrets() removes SAS keys, SAS signatures and private keys", async (t) => {
  const cases: [string, string, string][] = [
    [
      "a connection string",
      "HostName=h;DeviceId=d;SharedAccessKey=abc+/def==;GatewayHostName=g",
      `HostName=h;DeviceId=d;SharedAccessKey=${REDACTED};GatewayHostName=g`,
    ],
    [
      "a SAS token",
      "SharedAccessSignature sr=h%2Fdevices%2Fd&sig=AbC%2Bd%3D&se=1700000000",
      `SharedAccessSignature sr=h%2Fdevices%2Fd&sig=${REDACTED}&se=1700000000`,
    ],
    [
      "JSON keys",
      `{"primaryKey":"AAAA","secondaryKey": "BBBB","shared_access_key":"CCCC"}`,
      `{"primaryKey":"${REDACTED}","secondaryKey": "${REDACTED}","shared_access_key":"${REDACTED}"}`,
    ],
    [
      "a PEM private key",
      "x\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQ\n-----END EC PRIVATE KEY-----\ny",
      `x\n-----BEGIN EC PRIVATE KEY-----${REDACTED}-----END EC PRIVATE KEY-----\ny`,
    ],
    ["plain text", "temperature 27.3 sig nothing", "temperature 27.3 sig nothing"],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => assert.equal(scrubSecrets(input), expected));
  }
});
