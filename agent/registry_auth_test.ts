import assert from "node:assert/strict";
import { credentialsFor, imageRegistry } from "./registry_auth.ts";

const credentials = {
  acr: { username: "acr", password: "p1", address: "myacr.azurecr.io" },
  local: { username: "edge", password: "p2", address: "http://localhost:5000/" },
  hub: { username: "me", password: "p3", address: "https://index.docker.io/v1/" },
};

Deno.test("imageRegistry() finds the registry host of a reference", () => {
  assert.equal(imageRegistry("busybox:1"), "docker.io");
  assert.equal(imageRegistry("library/busybox"), "docker.io");
  assert.equal(imageRegistry("myacr.azurecr.io/a/b:1"), "myacr.azurecr.io");
  assert.equal(imageRegistry("localhost:5000/a"), "localhost:5000");
  assert.equal(imageRegistry("localhost/ledge-test/a:1"), "localhost");
});

Deno.test("credentialsFor() picks the credential of the image's registry", () => {
  assert.equal(credentialsFor("myacr.azurecr.io/x:1", credentials)?.password, "p1");
  assert.equal(credentialsFor("localhost:5000/x:1", credentials)?.password, "p2");
  assert.equal(credentialsFor("nginx:1", credentials)?.password, "p3");
  assert.equal(credentialsFor("other.io/x:1", credentials), undefined);
});
