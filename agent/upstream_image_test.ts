import assert from "node:assert/strict";
import { namesUpstream, resolveUpstream } from "./upstream_image.ts";

Deno.test("resolveUpstream() replaces a leading $upstream with the parent's host, nothing else", () => {
  assert.equal(resolveUpstream("$upstream:5000/ledge/a:1", "gw.local"), "gw.local:5000/ledge/a:1");
  assert.equal(resolveUpstream("$upstream/ledge/a:1", "10.0.0.1"), "10.0.0.1/ledge/a:1");
  assert.equal(resolveUpstream("$upstream", "gw"), "gw");
  assert.equal(resolveUpstream("registry.io/$upstream:1", "gw"), "registry.io/$upstream:1");
  assert.equal(resolveUpstream("$upstreamer/a:1", "gw"), "$upstreamer/a:1");
  assert.equal(namesUpstream("$upstream:443/x"), true);
  assert.equal(namesUpstream("localhost/x"), false);
});
