import assert from "node:assert/strict";
import { parseConfigText } from "../core/config_load.ts";
import { messageStorePath, storeOptionsFromConfig } from "./store_config.ts";

const context = { uid: 1000, hostname: "test", env: {} };

Deno.test("storeOptionsFromConfig() takes the queue bound and the free-space floor from [hub.store]", () => {
  const config = parseConfigText(
    '[state]\ndir = "/tmp/x"\n[hub.store]\nmax_size_bytes = 2097152\nmin_free_bytes = 8388608\n',
    context,
  );
  assert.deepEqual(storeOptionsFromConfig(config), {
    maxSizeBytes: 2097152,
    minFreeBytes: 8388608,
  });
});

Deno.test("storeOptionsFromConfig() defaults to 1 GiB per queue and keeps 16 MiB free", () => {
  const config = parseConfigText('[state]\ndir = "/tmp/x"', context);
  assert.equal(storeOptionsFromConfig(config).maxSizeBytes, 1024 * 1024 * 1024);
  assert.equal(storeOptionsFromConfig(config).minFreeBytes, 16 * 1024 * 1024);
});

Deno.test("messageStorePath() puts the store in the state dir", () => {
  assert.equal(messageStorePath("/var/lib/ledge"), "/var/lib/ledge/hub/queues.db");
});
