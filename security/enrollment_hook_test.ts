import assert from "node:assert/strict";
import { hmacSha256Base64 } from "../iothub/mod.ts";
import { enrollmentMatch, type EnrollmentSource } from "./enrollment_hook.ts";

const GROUP_KEY = btoa("a group key of thirty-two bytes!");
const deviceKey = (id: string) => hmacSha256Base64(GROUP_KEY, id);

function source(edge: boolean, registered: string[] = []): EnrollmentSource {
  return {
    candidates: (deviceId) => [{ group: "line", deviceKey: deviceKey(deviceId), edge }],
    registered: (identity) => void registered.push(identity.deviceId),
  };
}

Deno.test("enrollmentMatch() registers a device whose token is signed with its group-derived key", () => {
  const match = enrollmentMatch(
    source(true),
    { deviceId: "cell-9" },
    (keys) => keys.includes(deviceKey("cell-9")),
    new Date("2030-01-01T00:00:00Z"),
  );
  assert.ok(match);
  assert.equal(match.group, "line");
  assert.equal(match.device.kind, "child-edge-device");
  assert.deepEqual(match.device.auth, {
    type: "sas",
    primaryKey: deviceKey("cell-9"),
    secondaryKey: deviceKey("cell-9"),
  });
  assert.equal(match.acting, match.device);
});

Deno.test("enrollmentMatch() lets a module of an enrolled edge device register its device", () => {
  const moduleKey = hmacSha256Base64(deviceKey("cell-9"), "$edgeAgent");
  const match = enrollmentMatch(
    source(true),
    { deviceId: "cell-9", moduleId: "$edgeAgent" },
    (keys) => keys.includes(moduleKey),
    new Date(),
  );
  assert.equal(match?.device.moduleId, undefined);
  assert.equal(match?.acting.moduleId, "$edgeAgent");
  assert.equal(match?.acting.kind, "module");
  // A leaf device has no modules.
  assert.equal(
    enrollmentMatch(source(false), { deviceId: "s", moduleId: "m" }, () => true, new Date()),
    undefined,
  );
});

Deno.test("enrollmentMatch() refuses a token signed with another key, or without a source", () => {
  assert.equal(
    enrollmentMatch(source(true), { deviceId: "cell-9" }, (keys) => keys.includes("x"), new Date()),
    undefined,
  );
  assert.equal(
    enrollmentMatch(undefined, { deviceId: "cell-9" }, () => true, new Date()),
    undefined,
  );
});
