import assert from "node:assert/strict";
import { parseRunArgs } from "./run_args.ts";

Deno.test("parseRunArgs() reads ledge run's own arguments, before or after the verb", () => {
  assert.deepEqual(parseRunArgs(["run"]), {});
  assert.deepEqual(parseRunArgs(["--config", "/c.toml", "run"]), { config: "/c.toml" });
  assert.deepEqual(parseRunArgs(["run", "-c", "/c.toml", "--log-level", "debug"]), {
    config: "/c.toml",
    logLevel: "debug",
  });
  assert.deepEqual(parseRunArgs(["run", "--log-format=json", "--config=/c.toml"]), {
    logFormat: "json",
    config: "/c.toml",
  });
});

Deno.test("parseRunArgs() leaves everything else to commander (help, typos, bad values, other verbs)", () => {
  for (
    const args of [
      [],
      ["version"],
      ["run", "--help"],
      ["run", "-h"],
      ["run", "--log-format", "xml"],
      ["run", "--log-fromat", "json"],
      ["run", "extra"],
      ["run", "--config"],
      ["--log-level", "debug", "run"],
      ["run", "run"],
      ["deploy", "run"],
    ]
  ) {
    assert.equal(parseRunArgs(args), undefined, args.join(" "));
  }
});
