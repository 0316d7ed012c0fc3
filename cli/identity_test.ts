import assert from "node:assert/strict";
import { parseConfigText } from "../core/config_load.ts";
import { upstreamSnippet } from "./identity.ts";

Deno.test("upstreamSnippet() is an [upstream] table a child's config takes as it is", () => {
  const snippet = upstreamSnippet("line-7", {
    hostname: "gw.plant.example",
    port: 8883,
    protocol: "mqtts",
    httpsPort: 8443,
    sharedAccessKey: "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=",
  }, "/etc/ledge/parent-ca.pem");
  assert.match(snippet, /its \[device\] id must be "line-7"/);
  const config = parseConfigText(`[device]\nid = "line-7"\n${snippet}`, {
    uid: 1000,
    hostname: "test",
    env: {},
  });
  assert.deepEqual(
    {
      enabled: config.upstream.enabled,
      hostname: config.upstream.hostname,
      port: config.upstream.port,
      protocol: config.upstream.protocol,
      shared_access_key: config.upstream.shared_access_key,
      ca_file: config.upstream.ca_file,
      https_port: config.upstream.https_port,
    },
    {
      enabled: true,
      hostname: "gw.plant.example",
      port: 8883,
      protocol: "mqtts",
      shared_access_key: "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=",
      ca_file: "/etc/ledge/parent-ca.pem",
      https_port: 8443,
    },
  );
});
