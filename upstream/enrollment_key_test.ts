import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Buffer } from "node:buffer";
import { currentDefaultsContext, defaultConfig } from "../core/config.ts";
import { enrollmentDeviceKey, withEnrollmentKey } from "./enrollment_key.ts";

Deno.test("enrollmentDeviceKey() derives the device key as DPS group enrollment does", () => {
  const groupKey = Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
  const expected = createHmac("sha256", Buffer.from(groupKey, "base64")).update("line-7")
    .digest("base64");
  assert.equal(enrollmentDeviceKey(groupKey, "line-7"), expected);
  assert.notEqual(enrollmentDeviceKey(groupKey, "line-8"), expected);
});

Deno.test("withEnrollmentKey() fills an empty shared_access_key from the enrollment key", () => {
  const base = defaultConfig(currentDefaultsContext());
  assert.equal(withEnrollmentKey(base), base);
  const groupKey = btoa("a group key of thirty-two bytes!");
  const enrolled = {
    ...base,
    device: { ...base.device, id: "cell-1" },
    upstream: { ...base.upstream, enrollment_key: groupKey },
  };
  assert.equal(
    withEnrollmentKey(enrolled).upstream.shared_access_key,
    enrollmentDeviceKey(groupKey, "cell-1"),
  );
});
